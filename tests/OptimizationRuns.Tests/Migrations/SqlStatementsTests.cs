using OptimizationRuns.Silo.Migrations;
using Xunit;

namespace OptimizationRuns.Tests.Migrations;

public sealed class SqlStatementsTests
{
    [Fact]
    public void SemicolonsInQuotesCommentsAndDollarQuotesDoNotSplit()
    {
        const string script = """
            -- a comment; with a semicolon
            CREATE TABLE "odd;name" (note text DEFAULT 'it''s; fine');
            /* block; comment */
            CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END $$;
            CREATE FUNCTION g() RETURNS text LANGUAGE sql AS $body$ SELECT 'a;b' $body$;
            PREPARE p AS SELECT $1::int; -- trailing; comment
            """;

        var statements = SqlStatements.Split(script);

        Assert.Equal(4, statements.Count);
        Assert.Contains("CREATE TABLE \"odd;name\"", statements[0]);
        Assert.EndsWith("'it''s; fine')", statements[0]);
        Assert.EndsWith("END $$", statements[1]);
        Assert.EndsWith("$body$", statements[2]);
        Assert.Equal("PREPARE p AS SELECT $1::int", statements[3]);
    }

    [Fact]
    public void ACommentOnlyScriptHasNoStatements() =>
        Assert.Empty(SqlStatements.Split("-- optruns:no-transaction\n-- nothing else;\n"));
}
