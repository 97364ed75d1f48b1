DROP TABLE bills;
DROP TABLE occupancy_records;
DROP TABLE stock_movements;
DROP TABLE items;
