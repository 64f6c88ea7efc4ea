-- First start of the compose database: the service role the silos connect as. The schema's owner
-- is the image's POSTGRES_USER, which the one-shot migration job uses.
CREATE ROLE optruns_service LOGIN PASSWORD 'optruns_service';
