using System.Net;
using System.Text.Json;
using OptimizationRuns.Tests.Fixtures;
using Xunit;

namespace OptimizationRuns.Tests.Gateway;

/// <summary>
/// What a worker's writes do to the run as a user reads it back: kinds are kept, a PATCH is all or nothing, and a
/// run reads the same in a list as on its own.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class RunWriteRulesTests(GatewayFixture fixture)
{
    private const string Runs = "/api/optimization/runs";

    [Fact]
    public async Task ABaselineCompletedWithoutAKindStaysTheBaselineAndCountsAsBest()
    {
        var (_, client, _) = await fixture.NewProjectAsync();
        var runId = await client.CreateRunAsync();

        await (await client.PostRawAsync($"{Runs}/{runId}/iterations", """{"iteration":0,"kind":"baseline"}""")).JsonAsync(HttpStatusCode.Created);
        var completed = await (await client.PostRawAsync($"{Runs}/{runId}/iterations", """{"iteration":0,"score":0.41}""")).JsonAsync(HttpStatusCode.OK);

        Assert.Equal("updated", completed.GetProperty("outcome").GetString());
        var iteration = (await (await client.GetAsync($"{Runs}/{runId}/iterations")).JsonAsync(HttpStatusCode.OK)).GetProperty("items")[0];
        Assert.Equal("baseline", iteration.GetProperty("kind").GetString());
        var run = await client.GetRunAsync(runId);
        Assert.Equal(0.41m, run.GetProperty("bestScore").GetDecimal());
        Assert.Equal(0, run.GetProperty("bestIteration").GetInt32());
        Assert.Equal(0.41m, run.GetProperty("baselineScore").GetDecimal());
    }

    [Fact]
    public async Task ANewIterationWithoutAKindIsAMinibatchTrial()
    {
        var (_, client, _) = await fixture.NewProjectAsync();
        var runId = await client.CreateRunAsync();

        await (await client.PostRawAsync($"{Runs}/{runId}/iterations", """{"iteration":1,"score":0.9}""")).JsonAsync(HttpStatusCode.Created);

        var iteration = (await (await client.GetAsync($"{Runs}/{runId}/iterations")).JsonAsync(HttpStatusCode.OK)).GetProperty("items")[0];
        Assert.Equal("minibatch", iteration.GetProperty("kind").GetString());
        var run = await client.GetRunAsync(runId);
        Assert.Equal(JsonValueKind.Null, run.GetProperty("bestScore").ValueKind);
        Assert.Equal(0.9m, run.GetProperty("bestMinibatchScore").GetDecimal());
    }

    [Fact]
    public async Task APatchThatCannotChangeTheStatusChangesNothing()
    {
        var (_, client, _) = await fixture.NewProjectAsync();
        var runId = await client.CreateRunAsync();
        await (await client.PatchAsync($"{Runs}/{runId}", Json("""{"status":"completed","finalScore":0.5}"""))).JsonAsync(HttpStatusCode.OK);

        var refused = await client.PatchAsync($"{Runs}/{runId}", Json("""{"runName":"renamed","tags":["x"],"status":"running"}"""));

        await refused.ProblemAsync(HttpStatusCode.Conflict);
        var run = await client.GetRunAsync(runId);
        Assert.Equal("Test Run", run.GetProperty("runName").GetString());
        Assert.Equal(0, run.GetProperty("tags").GetArrayLength());
        Assert.Equal("completed", run.GetProperty("status").GetString());
    }

    [Fact]
    public async Task APatchChangesFieldsAndStatusTogether()
    {
        var (_, client, _) = await fixture.NewProjectAsync();
        var runId = await client.CreateRunAsync();

        var run = await (await client.PatchAsync($"{Runs}/{runId}",
            Json("""{"runName":"renamed","totalIterations":12,"status":"failed","errorMessage":"worker died"}"""))).JsonAsync(HttpStatusCode.OK);

        Assert.Equal("renamed", run.GetProperty("runName").GetString());
        Assert.Equal(12, run.GetProperty("totalIterations").GetInt32());
        Assert.Equal("failed", run.GetProperty("status").GetString());
        Assert.Equal("worker died", run.GetProperty("errorMessage").GetString());
        // A later, smaller plan is taken as it is: the grain writes what it was told, not the larger of two rows.
        run = await (await client.PatchAsync($"{Runs}/{runId}", Json("""{"totalIterations":5}"""))).JsonAsync(HttpStatusCode.OK);
        Assert.Equal(5, run.GetProperty("totalIterations").GetInt32());
        Assert.Equal(5, (await client.GetRunAsync(runId)).GetProperty("totalIterations").GetInt32());
    }

    [Fact]
    public async Task ACompletedRunReadsTheSameInTheListAsOnItsOwn()
    {
        var (_, client, _) = await fixture.NewProjectAsync();
        var runId = await client.CreateRunAsync();
        await (await client.PostRawAsync($"{Runs}/{runId}/progress", """{"phase":"searching","currentIteration":1,"message":"trial 1/3"}""")).JsonAsync(HttpStatusCode.OK);
        await (await client.PostJsonAsync($"{Runs}/{runId}/samples", HttpJson.Samples(1, 0, 20))).JsonAsync(HttpStatusCode.OK);
        await (await client.PostRawAsync($"{Runs}/{runId}/iterations", """{"iteration":1,"kind":"full","score":0.7}""")).JsonAsync(HttpStatusCode.OK);
        await (await client.PatchAsync($"{Runs}/{runId}", Json("""{"status":"completed","finalScore":0.7}"""))).JsonAsync(HttpStatusCode.OK);

        var single = await client.GetRunAsync(runId);
        var listed = (await (await client.GetAsync(Runs)).JsonAsync(HttpStatusCode.OK)).GetProperty("items")
            .EnumerateArray().Single(r => r.GetProperty("id").GetGuid() == runId);

        Assert.Equal("completed", single.GetProperty("phase").GetString());
        Assert.NotEqual(JsonValueKind.Null, single.GetProperty("p95LatencyMs").ValueKind);
        foreach (var field in single.EnumerateObject().Select(p => p.Name).Where(name => name != "lastEventId"))
        {
            Assert.True(listed.TryGetProperty(field, out var value), $"the list item lacks {field}");
            Assert.True(JsonElement.DeepEquals(single.GetProperty(field), value),
                $"{field}: the run says {single.GetProperty(field)}, the list {value}");
        }
    }

    private static StringContent Json(string body) => new(body, System.Text.Encoding.UTF8, "application/json");
}
