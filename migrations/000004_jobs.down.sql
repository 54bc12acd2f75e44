DROP TABLE IF EXISTS customer_merges, job_targets, jobs CASCADE;
