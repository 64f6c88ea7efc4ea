using System.Text.RegularExpressions;

namespace OptimizationRuns.Silo.Migrations;

/// <summary>
/// The statements that make a PostgreSQL server ready for our migrations: the two login roles, a database owned by
/// the owner role, and connect rights. One source for <c>prepare-database</c>, which runs them, and for its
/// <c>--print-sql</c>, which hands them to a DBA. None needs a superuser: CREATEROLE and CREATEDB suffice.
/// </summary>
public static partial class PreparationSql
{
    /// <summary>Owns every object and applies migrations; the admin path (as owner it is not subject to RLS).</summary>
    public const string OwnerRole = "optruns_owner";

    /// <summary>What the silo connects as: owns nothing, so row-level security applies. Migrations grant to this name.</summary>
    public const string ServiceRole = "optruns_service";

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$")]
    private static partial Regex PlainName();

    /// <summary>Whether <paramref name="database"/> is a plain lower-case identifier (the only names we accept).</summary>
    public static bool IsPlainName(string database) => PlainName().IsMatch(database);

    /// <summary>Creates a login role with a password.</summary>
    public static string CreateRole(string role, string password) => $"CREATE ROLE {role} LOGIN PASSWORD {Literal(password)}";

    /// <summary>Sets an existing role's password (and makes sure it may log in).</summary>
    public static string SetPassword(string role, string password) => $"ALTER ROLE {role} LOGIN PASSWORD {Literal(password)}";

    /// <summary>
    /// PostgreSQL 15 lets a non-superuser create a database owned by another role only when it is a member of that
    /// role (16 makes the creator a member itself); harmless for a superuser.
    /// </summary>
    public static string JoinOwnerRole() => $"GRANT {OwnerRole} TO CURRENT_USER";

    /// <summary>Creates the database, owned by the owner role (so the owner may create pg_trgm, a trusted extension).</summary>
    public static string CreateDatabase(string database) => $"CREATE DATABASE {database} OWNER {OwnerRole}";

    /// <summary>Only our two roles may connect: every other role loses the default right PUBLIC has.</summary>
    public static IReadOnlyList<string> RestrictConnect(string database) =>
    [
        $"REVOKE CONNECT, TEMPORARY ON DATABASE {database} FROM PUBLIC",
        $"GRANT CONNECT ON DATABASE {database} TO {ServiceRole}",
    ];

    /// <summary>The whole preparation as a script a DBA runs once, e.g. with <c>psql -f</c>.</summary>
    public static string Script(string database, string ownerPassword, string servicePassword) => string.Join('\n',
    [
        $"-- OptimizationRuns: prepare database {database}. Run once as a role with CREATEROLE and CREATEDB",
        "-- (a managed PostgreSQL's admin login is enough; no superuser needed).",
        CreateRole(OwnerRole, ownerPassword) + ";",
        CreateRole(ServiceRole, servicePassword) + ";",
        JoinOwnerRole() + ";",
        CreateDatabase(database) + ";",
        .. RestrictConnect(database).Select(s => s + ";"),
        "-- The first migration runs CREATE EXTENSION IF NOT EXISTS pg_trgm as the database owner: pg_trgm is a trusted",
        "-- extension, so that needs no superuser where it is installed (Debian: postgresql-contrib). A provider that",
        "-- allow-lists extensions (Azure: the azure.extensions parameter) must allow pg_trgm first.",
        "-- Then, with the owner's connection string: dotnet OptimizationRuns.Silo.dll migrate up",
        $"--   ConnectionStrings__PostgresOwner=Host=<host>;Port=5432;Database={database};Username={OwnerRole};Password={ownerPassword};SSL Mode=VerifyFull",
        $"--   ConnectionStrings__Postgres=Host=<host>;Port=5432;Database={database};Username={ServiceRole};Password={servicePassword};SSL Mode=VerifyFull",
        "",
    ]);

    private static string Literal(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
}
