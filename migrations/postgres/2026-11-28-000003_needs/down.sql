ALTER TABLE shelters DROP COLUMN needs_computed_on;
ALTER TABLE items DROP COLUMN observed_on;
ALTER TABLE items DROP COLUMN observed_demand;
ALTER TABLE items DROP COLUMN needs_suppressed;
DROP TABLE needs;
