using System.Security.Cryptography;
using Dapper;
using Npgsql;
using OptimizationRuns.Tests.Fixtures;
using Xunit;

namespace OptimizationRuns.Tests.Schema;

/// <summary>The API-key functions of the admin path: create, authenticate by hash, revoke.</summary>
public sealed class ApiKeyFunctionTests
{
    [Fact]
    public async Task CreatedKeyAuthenticatesAsItsProjectAndNotesTheUse()
    {
        var project = await TestDatabase.CreateProjectAsync();
        var hash = NewKeyHash();

        var keyId = await CreateKeyAsync(project, hash);
        var matches = await AuthenticateAsync(hash);

        Assert.Equal(new[] { (keyId, project) }, matches);
        Assert.NotNull(await LastUsedAsync(keyId));
    }

    [Fact]
    public async Task UseIsNotedAtMostOnceAMinute()
    {
        var hash = NewKeyHash();
        var keyId = await CreateKeyAsync(await TestDatabase.CreateProjectAsync(), hash);
        await AuthenticateAsync(hash);
        var first = await LastUsedAsync(keyId);

        await AuthenticateAsync(hash);

        Assert.Equal(first, await LastUsedAsync(keyId));
    }

    [Fact]
    public async Task RevokedKeyNoLongerAuthenticates()
    {
        var project = await TestDatabase.CreateProjectAsync();
        var hash = NewKeyHash();
        var keyId = await CreateKeyAsync(project, hash);

        Assert.True(await RevokeAsync(project, keyId));

        Assert.Empty(await AuthenticateAsync(hash));
        Assert.NotNull(await Owner.QuerySingleAsync<DateTime?>("SELECT revoked_at FROM project_api_keys WHERE id = @keyId", new { keyId }));
    }

    [Fact]
    public async Task KeyCannotBeRevokedThroughAnotherProject()
    {
        var project = await TestDatabase.CreateProjectAsync();
        var hash = NewKeyHash();
        var keyId = await CreateKeyAsync(project, hash);

        Assert.False(await RevokeAsync(await TestDatabase.CreateProjectAsync(), keyId));

        Assert.Single(await AuthenticateAsync(hash));
    }

    [Fact]
    public async Task UnknownKeyDoesNotAuthenticate()
    {
        Assert.Empty(await AuthenticateAsync(NewKeyHash()));
    }

    [Fact]
    public async Task SameKeyHashCannotBeStoredTwice()
    {
        var hash = NewKeyHash();
        await CreateKeyAsync(await TestDatabase.CreateProjectAsync(), hash);

        var error = await Assert.ThrowsAsync<PostgresException>(async () => await CreateKeyAsync(await TestDatabase.CreateProjectAsync(), hash));

        Assert.Equal(("23505", "project_api_keys_key_hash_uq"), (error.SqlState, error.ConstraintName));
    }

    private static byte[] NewKeyHash() => SHA256.HashData(RandomNumberGenerator.GetBytes(32));

    // The service calls these before any project is known: no project is set.
    private static Task<Guid> CreateKeyAsync(Guid project, byte[] hash) =>
        Service.InProjectAsync(null, (connection, transaction) => connection.QuerySingleAsync<Guid>(
            "SELECT admin_create_api_key(@project, 'ci', 'ork_ab12', @hash)", new { project, hash }, transaction));

    private static async Task<IReadOnlyList<(Guid KeyId, Guid ProjectId)>> AuthenticateAsync(byte[] hash) =>
        await Service.InProjectAsync(null, async (connection, transaction) =>
            (await connection.QueryAsync<(Guid, Guid)>("SELECT key_id, project_id FROM authenticate_api_key(@hash)", new { hash }, transaction)).AsList());

    private static Task<bool> RevokeAsync(Guid project, Guid keyId) =>
        Service.InProjectAsync(null, (connection, transaction) => connection.QuerySingleAsync<bool>(
            "SELECT admin_revoke_api_key(@project, @keyId)", new { project, keyId }, transaction));

    private static Task<DateTime?> LastUsedAsync(Guid keyId) =>
        Owner.QuerySingleAsync<DateTime?>("SELECT last_used_at FROM project_api_keys WHERE id = @keyId", new { keyId });
}
