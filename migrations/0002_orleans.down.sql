-- 0002_orleans.down.sql
-- Reverts 0002_orleans.up.sql: the Orleans ADO.NET provider tables and their query catalogue.
-- Dropping a table drops its indexes and constraints with it; the membership table goes before
-- the version table it references. The up script creates no functions, types or sequences.

DROP TABLE OrleansRemindersTable;
DROP TABLE OrleansStorage;
DROP TABLE OrleansMembershipTable;
DROP TABLE OrleansMembershipVersionTable;
DROP TABLE OrleansQuery;
