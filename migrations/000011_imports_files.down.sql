DROP TABLE import_errors;
DROP TABLE imports;
DROP TABLE file_chunks;
DROP TABLE files;
