DROP TABLE expense_funding;
DROP TABLE expenses;
DROP TABLE allocations;
DROP TABLE donations;
DROP TABLE fx_rates;
