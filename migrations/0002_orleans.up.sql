-- 0002_orleans.up.sql
--
-- Storage for Orleans' own ADO.NET providers (all 10.4.2, Invariant "Npgsql"):
--   Microsoft.Orleans.Clustering.AdoNet   -> OrleansMembershipVersionTable, OrleansMembershipTable
--   Microsoft.Orleans.Persistence.AdoNet  -> OrleansStorage
--   Microsoft.Orleans.Reminders.AdoNet    -> OrleansRemindersTable
--   all three                             -> OrleansQuery (the SQL they run, looked up by QueryKey)
--
-- The providers never embed SQL for PostgreSQL: at start-up each one runs
-- "SELECT QueryKey, QueryText FROM OrleansQuery" and from then on executes the stored text with
-- ADO.NET parameters named @DeploymentId, @Version, @GrainIdHash, ... It reads results back by
-- column NAME (Npgsql matches names case-insensitively, so unquoted lower-cased identifiers are
-- fine). What is fixed is therefore: the QueryKey strings, the parameter names, the result column
-- names/meaning, and the concurrency semantics. Everything else here is our own design.
--
-- Types follow what Orleans binds (its DbExtensions type map):
--   string   -> DbType.String / AnsiString -> text        int  -> DbType.Int32 -> integer
--   long     -> DbType.Int64 -> bigint                   byte[] -> DbType.Binary -> bytea
--   DateTime -> DbType.DateTime, which Npgsql 6+ binds as timestamptz and only accepts with
--               Kind=Utc. Orleans always passes UTC values, so every time column is timestamptz:
--               no implicit timestamptz->timestamp conversion (that would depend on the session
--               TimeZone) and no Npgsql.EnableLegacyTimestampBehavior switch needed. Reading a
--               timestamptz gives back Kind=Utc, which is what Orleans expects.
--
-- Every query is a single SQL statement (data-modifying CTEs where two tables change together),
-- so no server-side functions are created and nothing needs EXECUTE.
--
-- Requires PostgreSQL 15+ (UNIQUE ... NULLS NOT DISTINCT on OrleansStorage).
--
-- Privileges for the service role (granted at the end of this file):
--   OrleansQuery                                              SELECT only (the providers never
--                                                             write it; keeping it read-only means
--                                                             the app cannot rewrite its own SQL)
--   OrleansMembershipVersionTable, OrleansMembershipTable,
--   OrleansStorage, OrleansRemindersTable                     SELECT, INSERT, UPDATE, DELETE
--   Functions: none.
-- The objects are created unqualified (in the first schema of search_path, normally public) and
-- the stored queries reference them unqualified, so the service role's search_path must reach
-- the same schema. None of these tables is tenant data: no RLS on them.


-- ---------------------------------------------------------------------------------------------
-- The query catalogue
-- ---------------------------------------------------------------------------------------------
CREATE TABLE OrleansQuery
(
    QueryKey  varchar(64) NOT NULL,
    QueryText text        NOT NULL,
    CONSTRAINT PK_OrleansQuery PRIMARY KEY (QueryKey)
);

COMMENT ON TABLE OrleansQuery IS
    'SQL executed by the Orleans ADO.NET providers, keyed by the QueryKey names they look up. Read once per provider at start-up.';


-- ---------------------------------------------------------------------------------------------
-- Clustering (membership)
-- ---------------------------------------------------------------------------------------------
-- One row per cluster (Orleans calls the ClusterId "DeploymentId" here). Version is the table
-- ETag of the membership protocol: every change to a member row must bump it, and a writer only
-- succeeds when it presents the Version it last read (optimistic concurrency).
CREATE TABLE OrleansMembershipVersionTable
(
    DeploymentId varchar(150) NOT NULL,
    Timestamp    timestamptz  NOT NULL DEFAULT now(),
    Version      integer      NOT NULL DEFAULT 0,
    CONSTRAINT PK_OrleansMembershipVersionTable PRIMARY KEY (DeploymentId)
);

-- One row per silo incarnation (address + port + generation).
-- Status holds Orleans' SiloStatus: 0 None, 1 Created, 2 Joining, 3 Active, 4 ShuttingDown,
-- 5 Stopping, 6 Dead. SuspectTimes is Orleans' own "silo,date|silo,date" text, opaque to us.
CREATE TABLE OrleansMembershipTable
(
    DeploymentId varchar(150) NOT NULL,
    Address      varchar(45)  NOT NULL,   -- textual IPv4/IPv6
    Port         integer      NOT NULL,
    Generation   integer      NOT NULL,
    SiloName     varchar(150) NOT NULL,
    HostName     varchar(150) NOT NULL,
    Status       integer      NOT NULL,
    ProxyPort    integer      NOT NULL DEFAULT 0,  -- gateway port; 0 = not a gateway
    SuspectTimes text         NULL,
    StartTime    timestamptz  NOT NULL,
    IAmAliveTime timestamptz  NOT NULL,
    CONSTRAINT PK_OrleansMembershipTable PRIMARY KEY (DeploymentId, Address, Port, Generation),
    -- CASCADE: removing a cluster's version row (DeleteMembershipTableEntriesKey) removes its
    -- members in the same statement; nothing else ever deletes version rows.
    CONSTRAINT FK_OrleansMembershipTable_Version FOREIGN KEY (DeploymentId)
        REFERENCES OrleansMembershipVersionTable (DeploymentId) ON DELETE CASCADE
);

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES

-- Called once per silo start. Must return exactly one row with one column:
-- non-zero when the version row was created now, 0 when it already existed.
('InsertMembershipVersionKey', $q$
    WITH created AS (
        INSERT INTO OrleansMembershipVersionTable (DeploymentId)
        VALUES (@DeploymentId)
        ON CONFLICT (DeploymentId) DO NOTHING
        RETURNING 1
    )
    SELECT count(*)::integer AS Inserted FROM created;
$q$),

-- Conditional insert of a member row. Succeeds (returns 1) only if the cluster Version still
-- equals @Version AND the silo row does not exist yet; the version bump and the insert happen
-- together or not at all. Concurrent writers serialise on the version row lock: a loser
-- re-checks "Version = @Version" after the winner commits, no longer matches, and gets 0.
('InsertMembershipKey', $q$
    WITH bumped AS (
        UPDATE OrleansMembershipVersionTable AS v
           SET Version = v.Version + 1,
               Timestamp = now()
         WHERE v.DeploymentId = @DeploymentId
           AND v.Version = @Version
           AND NOT EXISTS (
                 SELECT 1 FROM OrleansMembershipTable AS m
                  WHERE m.DeploymentId = @DeploymentId
                    AND m.Address = @Address
                    AND m.Port = @Port
                    AND m.Generation = @Generation)
        RETURNING v.DeploymentId
    ),
    inserted AS (
        INSERT INTO OrleansMembershipTable
            (DeploymentId, Address, Port, Generation, SiloName, HostName, Status, ProxyPort,
             StartTime, IAmAliveTime)
        SELECT b.DeploymentId, @Address, @Port, @Generation, @SiloName, @HostName, @Status,
               @ProxyPort, @StartTime, @IAmAliveTime
          FROM bumped AS b
        ON CONFLICT DO NOTHING
        RETURNING 1
    )
    SELECT count(*)::integer AS Inserted FROM inserted;
$q$),

-- Conditional update of a member row (status changes, suspicion votes). Same contract as the
-- insert: 1 when the version matched and the row was updated, else 0 and nothing changed.
-- The member row is locked first so a concurrent cleanup cannot delete it between the version
-- bump and the update. IAmAliveTime never moves backwards (a stale entry must not undo a newer
-- heartbeat written by UpdateIAmAlivetimeKey).
('UpdateMembershipKey', $q$
    WITH target AS (
        SELECT m.DeploymentId
          FROM OrleansMembershipTable AS m
         WHERE m.DeploymentId = @DeploymentId
           AND m.Address = @Address
           AND m.Port = @Port
           AND m.Generation = @Generation
           FOR UPDATE
    ),
    bumped AS (
        UPDATE OrleansMembershipVersionTable AS v
           SET Version = v.Version + 1,
               Timestamp = now()
         WHERE v.DeploymentId = @DeploymentId
           AND v.Version = @Version
           AND EXISTS (SELECT 1 FROM target)
        RETURNING v.DeploymentId
    ),
    updated AS (
        UPDATE OrleansMembershipTable AS m
           SET Status = @Status,
               SuspectTimes = @SuspectTimes,
               IAmAliveTime = GREATEST(m.IAmAliveTime, @IAmAliveTime)
          FROM bumped AS b
         WHERE m.DeploymentId = b.DeploymentId
           AND m.Address = @Address
           AND m.Port = @Port
           AND m.Generation = @Generation
        RETURNING 1
    )
    SELECT count(*)::integer AS Updated FROM updated;
$q$),

-- Heartbeat. Deliberately does NOT touch the version row: liveness timestamps are not part of
-- the versioned membership state, and bumping would make every other writer retry.
-- Orleans ignores the result.
('UpdateIAmAlivetimeKey', $q$
    UPDATE OrleansMembershipTable AS m
       SET IAmAliveTime = GREATEST(m.IAmAliveTime, @IAmAliveTime)
     WHERE m.DeploymentId = @DeploymentId
       AND m.Address = @Address
       AND m.Port = @Port
       AND m.Generation = @Generation;
$q$),

-- Read one silo's row plus the table version. Orleans needs one row even when the silo is
-- unknown (member columns NULL, Version set), hence the outer join from the version table.
-- Result columns read by name: Address, Port, Generation, SiloName, HostName, Status,
-- ProxyPort, SuspectTimes, StartTime, IAmAliveTime, Version.
('MembershipReadRowKey', $q$
    SELECT v.DeploymentId,
           m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status, m.ProxyPort,
           m.SuspectTimes, m.StartTime, m.IAmAliveTime,
           v.Version
      FROM OrleansMembershipVersionTable AS v
      LEFT JOIN OrleansMembershipTable AS m
             ON m.DeploymentId = v.DeploymentId
            AND m.Address = @Address
            AND m.Port = @Port
            AND m.Generation = @Generation
     WHERE v.DeploymentId = @DeploymentId;
$q$),

-- Read every member of the cluster plus the table version (same shape as above).
('MembershipReadAllKey', $q$
    SELECT v.DeploymentId,
           m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status, m.ProxyPort,
           m.SuspectTimes, m.StartTime, m.IAmAliveTime,
           v.Version
      FROM OrleansMembershipVersionTable AS v
      LEFT JOIN OrleansMembershipTable AS m
             ON m.DeploymentId = v.DeploymentId
     WHERE v.DeploymentId = @DeploymentId;
$q$),

-- Gateways for clients: Orleans passes @Status = 3 (Active). Columns: Address, ProxyPort,
-- Generation.
('GatewaysQueryKey', $q$
    SELECT m.Address, m.ProxyPort, m.Generation
      FROM OrleansMembershipTable AS m
     WHERE m.DeploymentId = @DeploymentId
       AND m.Status = @Status
       AND m.ProxyPort > 0;
$q$),

-- Drop a whole cluster's membership (tests / teardown). The FK cascade removes member rows.
('DeleteMembershipTableEntriesKey', $q$
    DELETE FROM OrleansMembershipVersionTable
     WHERE DeploymentId = @DeploymentId;
$q$),

-- Bulk pruning of long-dead silos (required key; used only when the per-row key below is
-- absent). Only Dead (6) rows whose every timestamp is older than the cutoff @IAmAliveTime.
('CleanupDefunctSiloEntriesKey', $q$
    DELETE FROM OrleansMembershipTable
     WHERE DeploymentId = @DeploymentId
       AND Status = 6
       AND IAmAliveTime < @IAmAliveTime
       AND StartTime < @IAmAliveTime;
$q$),

-- Optional key (10.4.x): when present Orleans reads all members, picks the Dead ones that are
-- past the cutoff, and deletes each one only if it still holds exactly the values it read
-- (status, start/alive times, suspicion votes) - a row that changed meanwhile survives.
('CleanupDefunctSiloEntryKey', $q$
    DELETE FROM OrleansMembershipTable
     WHERE DeploymentId = @DeploymentId
       AND Address = @Address
       AND Port = @Port
       AND Generation = @Generation
       AND Status = 6
       AND StartTime = @StartTime
       AND IAmAliveTime = @IAmAliveTime
       AND COALESCE(SuspectTimes, '') = COALESCE(@SuspectTimes, '');
$q$);


-- ---------------------------------------------------------------------------------------------
-- Grain persistence
-- ---------------------------------------------------------------------------------------------
-- A grain's identity as Orleans sends it: GrainIdN0/N1 carry a Guid or long key (0 for string
-- keys), GrainIdExtensionString the string key or key extension (NULL when there is none),
-- GrainTypeString the grain type, ServiceId the cluster's ServiceId. The two *Hash columns are
-- 32-bit hashes computed by Orleans (only used to make the lookup index selective).
-- Version is the ETag: NULL never happens for a stored row; a cleared state keeps its row with
-- PayloadBinary NULL and a bumped Version (unless DeleteStateOnClear is set).
-- Orleans 10 only writes PayloadBinary (its IGrainStorageSerializer output, JSON by default);
-- the old PayloadJson/PayloadXml columns of Orleans 3 are not used and not created.
CREATE TABLE OrleansStorage
(
    GrainIdHash            integer      NOT NULL,
    GrainIdN0              bigint       NOT NULL,
    GrainIdN1              bigint       NOT NULL,
    GrainTypeHash          integer      NOT NULL,
    GrainTypeString        varchar(512) NOT NULL,
    GrainIdExtensionString varchar(512) NULL,
    ServiceId              varchar(150) NOT NULL,
    PayloadBinary          bytea        NULL,
    ModifiedOn             timestamptz  NOT NULL DEFAULT now(),
    Version                integer      NOT NULL,
    -- One row per grain state. Serves every storage query (hashes first: most selective) and
    -- makes "first write wins" exact: two activations inserting the same new grain cannot both
    -- succeed. NULLS NOT DISTINCT so a grain without key extension is still unique.
    CONSTRAINT UQ_OrleansStorage_Grain UNIQUE NULLS NOT DISTINCT
        (GrainIdHash, GrainTypeHash, ServiceId, GrainIdN0, GrainIdN1, GrainTypeString,
         GrainIdExtensionString)
);

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES

-- Zero or one row. Columns read by name: PayloadBinary (NULL = no state), Version (ETag).
('ReadFromStorageKey', $q$
    SELECT s.PayloadBinary, s.Version
      FROM OrleansStorage AS s
     WHERE s.GrainIdHash = @GrainIdHash
       AND s.GrainTypeHash = @GrainTypeHash
       AND s.ServiceId = @ServiceId
       AND s.GrainIdN0 = @GrainIdN0
       AND s.GrainIdN1 = @GrainIdN1
       AND s.GrainTypeString = @GrainTypeString
       AND s.GrainIdExtensionString IS NOT DISTINCT FROM @GrainIdExtensionString;
$q$),

-- Optimistic write. @GrainStateVersion NULL means "the grain believes no row exists": insert
-- with Version 1, or nothing if a row is already there. Otherwise update only if the stored
-- Version still equals @GrainStateVersion. Always one row, column NewGrainStateVersion: the new
-- Version on success, NULL on conflict (Orleans then throws InconsistentStateException).
('WriteToStorageKey', $q$
    WITH updated AS (
        UPDATE OrleansStorage AS s
           SET PayloadBinary = @PayloadBinary,
               Version = s.Version + 1,
               ModifiedOn = now()
         WHERE @GrainStateVersion IS NOT NULL
           AND s.GrainIdHash = @GrainIdHash
           AND s.GrainTypeHash = @GrainTypeHash
           AND s.ServiceId = @ServiceId
           AND s.GrainIdN0 = @GrainIdN0
           AND s.GrainIdN1 = @GrainIdN1
           AND s.GrainTypeString = @GrainTypeString
           AND s.GrainIdExtensionString IS NOT DISTINCT FROM @GrainIdExtensionString
           AND s.Version = @GrainStateVersion
        RETURNING s.Version
    ),
    inserted AS (
        INSERT INTO OrleansStorage
            (GrainIdHash, GrainIdN0, GrainIdN1, GrainTypeHash, GrainTypeString,
             GrainIdExtensionString, ServiceId, PayloadBinary, Version)
        SELECT @GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash, @GrainTypeString,
               @GrainIdExtensionString, @ServiceId, @PayloadBinary, 1
         WHERE @GrainStateVersion IS NULL
        ON CONFLICT DO NOTHING
        RETURNING Version
    )
    SELECT COALESCE((SELECT Version FROM updated), (SELECT Version FROM inserted))
           AS NewGrainStateVersion;
$q$),

-- Clear (DeleteStateOnClear = false, the default): keep the row, drop the payload, bump the
-- version. Orleans reads the first column: the new version, or no row on conflict.
('ClearStorageKey', $q$
    UPDATE OrleansStorage AS s
       SET PayloadBinary = NULL,
           Version = s.Version + 1,
           ModifiedOn = now()
     WHERE s.GrainIdHash = @GrainIdHash
       AND s.GrainTypeHash = @GrainTypeHash
       AND s.ServiceId = @ServiceId
       AND s.GrainIdN0 = @GrainIdN0
       AND s.GrainIdN1 = @GrainIdN1
       AND s.GrainTypeString = @GrainTypeString
       AND s.GrainIdExtensionString IS NOT DISTINCT FROM @GrainIdExtensionString
       AND s.Version = @GrainStateVersion
    RETURNING s.Version AS NewGrainStateVersion;
$q$),

-- Clear with DeleteStateOnClear = true: remove the row if the version matches. Orleans treats a
-- returned value equal to the old ETag (or no row) as a conflict, so success returns a value
-- that differs from it: the version the row would have had next.
('DeleteStorageKey', $q$
    DELETE FROM OrleansStorage AS s
     WHERE s.GrainIdHash = @GrainIdHash
       AND s.GrainTypeHash = @GrainTypeHash
       AND s.ServiceId = @ServiceId
       AND s.GrainIdN0 = @GrainIdN0
       AND s.GrainIdN1 = @GrainIdN1
       AND s.GrainTypeString = @GrainTypeString
       AND s.GrainIdExtensionString IS NOT DISTINCT FROM @GrainIdExtensionString
       AND s.Version = @GrainStateVersion
    RETURNING s.Version + 1 AS NewGrainStateVersion;
$q$);


-- ---------------------------------------------------------------------------------------------
-- Reminders
-- ---------------------------------------------------------------------------------------------
-- GrainId is Orleans' GrainId.ToString() ("type/key"); GrainHash its uniform hash as a signed
-- 32-bit integer, used by the reminder service to split the ring into ranges. Period is in
-- milliseconds. Version is the reminder's ETag.
CREATE TABLE OrleansRemindersTable
(
    ServiceId    varchar(150) NOT NULL,
    GrainId      varchar(512) NOT NULL,
    ReminderName varchar(256) NOT NULL,
    StartTime    timestamptz  NOT NULL,
    Period       bigint       NOT NULL,
    GrainHash    integer      NOT NULL,
    Version      integer      NOT NULL,
    CONSTRAINT PK_OrleansRemindersTable PRIMARY KEY (ServiceId, GrainId, ReminderName)
);

-- Serves ReadRangeRows1Key / ReadRangeRows2Key (each silo reads its share of the hash ring).
CREATE INDEX IX_OrleansRemindersTable_ServiceId_GrainHash
    ON OrleansRemindersTable (ServiceId, GrainHash);

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES

-- Reminder rows are read by column name: GrainId, ReminderName, StartTime, Period, Version.
('ReadReminderRowsKey', $q$
    SELECT r.GrainId, r.ReminderName, r.StartTime, r.Period, r.Version
      FROM OrleansRemindersTable AS r
     WHERE r.ServiceId = @ServiceId
       AND r.GrainId = @GrainId;
$q$),

('ReadReminderRowKey', $q$
    SELECT r.GrainId, r.ReminderName, r.StartTime, r.Period, r.Version
      FROM OrleansRemindersTable AS r
     WHERE r.ServiceId = @ServiceId
       AND r.GrainId = @GrainId
       AND r.ReminderName = @ReminderName;
$q$),

-- Ring range (@BeginHash, @EndHash], both passed as the signed reinterpretation of Orleans'
-- unsigned hashes. Orleans picks this key when BeginHash < EndHash as signed integers: the
-- range is one contiguous signed interval.
('ReadRangeRows1Key', $q$
    SELECT r.GrainId, r.ReminderName, r.StartTime, r.Period, r.Version
      FROM OrleansRemindersTable AS r
     WHERE r.ServiceId = @ServiceId
       AND r.GrainHash > @BeginHash
       AND r.GrainHash <= @EndHash;
$q$),

-- ... and this one otherwise: the range wraps past the signed maximum, i.e. it is the union of
-- (BeginHash, +max] and [-min, EndHash]. BeginHash = EndHash means the whole ring.
('ReadRangeRows2Key', $q$
    SELECT r.GrainId, r.ReminderName, r.StartTime, r.Period, r.Version
      FROM OrleansRemindersTable AS r
     WHERE r.ServiceId = @ServiceId
       AND (r.GrainHash > @BeginHash OR r.GrainHash <= @EndHash);
$q$),

-- Insert or replace a reminder; one row back with column Version = the new ETag.
-- @Period arrives as integer or bigint depending on its size; the column is bigint either way.
('UpsertReminderRowKey', $q$
    INSERT INTO OrleansRemindersTable AS r
        (ServiceId, GrainId, ReminderName, StartTime, Period, GrainHash, Version)
    VALUES
        (@ServiceId, @GrainId, @ReminderName, @StartTime, @Period, @GrainHash, 0)
    ON CONFLICT (ServiceId, GrainId, ReminderName) DO UPDATE
       SET StartTime = EXCLUDED.StartTime,
           Period = EXCLUDED.Period,
           GrainHash = EXCLUDED.GrainHash,
           Version = r.Version + 1
    RETURNING r.Version;
$q$),

-- Delete one reminder if its ETag still matches. Exactly one row, one column: true/false.
('DeleteReminderRowKey', $q$
    WITH removed AS (
        DELETE FROM OrleansRemindersTable AS r
         WHERE r.ServiceId = @ServiceId
           AND r.GrainId = @GrainId
           AND r.ReminderName = @ReminderName
           AND r.Version = @Version
        RETURNING 1
    )
    SELECT EXISTS (SELECT 1 FROM removed) AS Deleted;
$q$),

-- Remove every reminder of the service (tests / teardown). Result ignored.
('DeleteReminderRowsKey', $q$
    DELETE FROM OrleansRemindersTable
     WHERE ServiceId = @ServiceId;
$q$);

-- The silo's service role: reads the query catalogue, writes the provider tables.
GRANT SELECT ON OrleansQuery TO optruns_service;
GRANT SELECT, INSERT, UPDATE, DELETE
    ON OrleansMembershipVersionTable, OrleansMembershipTable, OrleansStorage, OrleansRemindersTable
    TO optruns_service;
