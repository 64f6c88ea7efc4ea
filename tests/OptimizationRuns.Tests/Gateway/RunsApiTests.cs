using System.Net;
using System.Net.Http.Json;
using OptimizationRuns.Tests.Fixtures;
using Xunit;

namespace OptimizationRuns.Tests.Gateway;

[Collection(GatewayCollection.Name)]
public sealed class RunsApiTests(GatewayFixture fixture)
{
    [Fact]
    public async Task TheOriginalExampleCreatesAPendingRun()
    {
        var (projectId, client, _) = await fixture.NewProjectAsync();

        var response = await client.PostRawAsync("/api/optimization/runs", HttpJson.ExampleRunBody);

        var run = await response.JsonAsync(HttpStatusCode.Created);
        Assert.Equal($"/api/optimization/runs/{run.GetProperty("id").GetGuid()}", response.Headers.Location?.OriginalString);
        Assert.Equal(projectId, run.GetProperty("projectId").GetGuid());
        Assert.Equal("Test Run", run.GetProperty("runName").GetString());
        Assert.Equal("miprov2", run.GetProperty("optimizerType").GetString());
        Assert.Equal("pending", run.GetProperty("status").GetString());
        Assert.Equal("accuracy", run.GetProperty("config").GetProperty("metric").GetString());
        Assert.EndsWith("Z", run.GetProperty("createdAt").GetString());
        foreach (var field in new[] { "bestScore", "bestMinibatchScore", "finalScore", "improvement", "samplesEvaluated", "costUsd", "lastHeartbeatAt", "optimizedProgram" })
        {
            Assert.True(run.TryGetProperty(field, out _), $"the run lacks {field}");
        }
    }

    [Fact]
    public async Task ACreateWithAClientIdIsIdempotent()
    {
        var (_, client, _) = await fixture.NewProjectAsync();
        var id = Guid.NewGuid();
        var body = $$"""{"id":"{{id}}","runName":"again","optimizerType":"gepa","config":{},"tags":["qa"]}""";

        var first = await (await client.PostRawAsync("/api/optimization/runs", body)).JsonAsync(HttpStatusCode.Created);
        var second = await (await client.PostRawAsync("/api/optimization/runs", body)).JsonAsync(HttpStatusCode.Created);

        Assert.Equal(first.GetProperty("id").GetGuid(), second.GetProperty("id").GetGuid());
        Assert.Equal(first.GetProperty("createdAt").GetString(), second.GetProperty("createdAt").GetString());
    }

    [Fact]
    public async Task AClientIdUsedByAnotherProjectCreatesARunAsIfItWereFree()
    {
        var (projectA, a, _) = await fixture.NewProjectAsync();
        var (projectB, b, _) = await fixture.NewProjectAsync();
        var id = Guid.NewGuid();
        string Body(string name) => $$"""{"id":"{{id}}","runName":"{{name}}","optimizerType":"gepa","config":{ } }""";

        var ofA = await (await a.PostRawAsync("/api/optimization/runs", Body("A's"))).JsonAsync(HttpStatusCode.Created);
        // B's answer must not depend on A's data: the same as for an id nobody used.
        var ofB = await (await b.PostRawAsync("/api/optimization/runs", Body("B's"))).JsonAsync(HttpStatusCode.Created);
        var freshInB = await (await b.PostRawAsync("/api/optimization/runs",
            $$"""{"id":"{{Guid.NewGuid()}}","runName":"fresh","optimizerType":"gepa","config":{ } }""")).JsonAsync(HttpStatusCode.Created);

        Assert.Equal(projectB, ofB.GetProperty("projectId").GetGuid());
        Assert.Equal("B's", ofB.GetProperty("runName").GetString());
        Assert.Equal("pending", freshInB.GetProperty("status").GetString());
        Assert.NotEqual(ofA.GetProperty("id").GetGuid(), ofB.GetProperty("id").GetGuid());
        // Each side sees its own run under the key, and never the other's.
        Assert.Equal("A's", (await a.GetRunAsync(ofA.GetProperty("id").GetGuid())).GetProperty("runName").GetString());
        Assert.Equal(projectA, (await a.GetRunAsync(ofA.GetProperty("id").GetGuid())).GetProperty("projectId").GetGuid());
        await (await b.GetAsync($"/api/optimization/runs/{ofA.GetProperty("id").GetGuid()}")).ProblemAsync(HttpStatusCode.NotFound);
        await (await a.GetAsync($"/api/optimization/runs/{ofB.GetProperty("id").GetGuid()}")).ProblemAsync(HttpStatusCode.NotFound);
        // And again from A's side: a repeat stays A's run.
        var again = await (await a.PostRawAsync("/api/optimization/runs", Body("A's"))).JsonAsync(HttpStatusCode.Created);
        Assert.Equal(ofA.GetProperty("id").GetGuid(), again.GetProperty("id").GetGuid());
    }

    [Fact]
    public async Task PatchChangesFieldsAndCompletesTheRun()
    {
        var (_, client, _) = await fixture.NewProjectAsync();
        var runId = await client.CreateRunAsync();

        var renamed = await (await client.PatchAsJsonAsync($"/api/optimization/runs/{runId}",
            new { runName = "renamed", tags = new[] { "a", "b" }, description = "d", status = "running" })).JsonAsync(HttpStatusCode.OK);
        Assert.Equal("renamed", renamed.GetProperty("runName").GetString());
        Assert.Equal("running", renamed.GetProperty("status").GetString());
        Assert.Equal(2, renamed.GetProperty("tags").GetArrayLength());
        Assert.NotEqual(System.Text.Json.JsonValueKind.Null, renamed.GetProperty("startTime").ValueKind);

        var completed = await (await client.PatchAsJsonAsync($"/api/optimization/runs/{runId}",
            new { status = "completed", finalScore = 0.63, optimizedProgram = new { predictors = 1 } })).JsonAsync(HttpStatusCode.OK);
        Assert.Equal("completed", completed.GetProperty("status").GetString());
        Assert.Equal(0.63m, completed.GetProperty("finalScore").GetDecimal());
        Assert.Equal(1, completed.GetProperty("optimizedProgram").GetProperty("predictors").GetInt32());
        Assert.NotEqual(System.Text.Json.JsonValueKind.Null, completed.GetProperty("endTime").ValueKind);

        var again = await client.PatchAsJsonAsync($"/api/optimization/runs/{runId}", new { status = "failed", errorMessage = "late" });
        await again.ProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal("completed", (await client.GetRunAsync(runId)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task DeleteRemovesTheRunAndItsRows()
    {
        var (_, client, _) = await fixture.NewProjectAsync();
        var runId = await client.CreateRunAsync();
        await (await client.PostJsonAsync($"/api/optimization/runs/{runId}/samples", HttpJson.Samples(0, 0, 10))).JsonAsync(HttpStatusCode.OK);

        var deleted = await client.DeleteAsync($"/api/optimization/runs/{runId}");

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await (await client.GetAsync($"/api/optimization/runs/{runId}")).ProblemAsync(HttpStatusCode.NotFound);
        var stored = await OptimizationRuns.Tests.Runs.RunScenario.ReadStoredSampleCountAsync(runId);
        Assert.Equal(0, stored);
    }

    [Fact]
    public async Task AMissingRunIsNotFound()
    {
        var (_, client, _) = await fixture.NewProjectAsync();
        await (await client.GetAsync($"/api/optimization/runs/{Guid.NewGuid()}")).ProblemAsync(HttpStatusCode.NotFound);
        await (await client.DeleteAsync($"/api/optimization/runs/{Guid.NewGuid()}")).ProblemAsync(HttpStatusCode.NotFound);
    }
}
