using System.Net;
using OptimizationRuns.Tests.Fixtures;
using OptimizationRuns.Tests.Runs;
using Xunit;

namespace OptimizationRuns.Tests.Gateway;

/// <summary>Bad input gets a clear problem naming the field, never a 500, and changes nothing.</summary>
[Collection(GatewayCollection.Name)]
public sealed class ValidationTests(GatewayFixture fixture)
{
    public static TheoryData<string, string> BadRuns => new()
    {
        { """{"runName":"x","optimizerType":"miprov3","config":{}}""", "optimizerType" },
        { """{"runName":"x","config":{}}""", "optimizerType" },
        { """{"runName":"","optimizerType":"miprov2","config":{}}""", "runName" },
        { """{"runName":"x","optimizerType":"miprov2"}""", "config" },
        { """{"runName":"x","optimizerType":"miprov2","config":[1]}""", "config" },
        { """{"runName":"x","optimizerType":"miprov2","config":{},"baselineScore":1.2}""", "baselineScore" },
        { """{"runName":"x","optimizerType":"miprov2","config":{},"baselineScore":"high"}""", "baselineScore" },
        { """{"runName":"x","optimizerType":"miprov2","config":{},"totalIterations":-3}""", "totalIterations" },
        { """{"runName":"x","optimizerType":"miprov2","config":{"auto":"extreme"}}""", "config.auto" },
        { """{"runName":"x","optimizerType":"miprov2","config":{"num_trials":0}}""", "config.num_trials" },
        { """{"runName":"x","optimizerType":"miprov2","config":{"minibatch_size":"35"}}""", "config.minibatch_size" },
        { """{"runName":"x","optimizerType":"miprov2","config":{"auto":null}}""", "config.num_trials" },
        { """{"runName":"x","optimizerType":"bootstrap_fewshot","config":{"max_bootstrapped_demos":-1}}""", "config.max_bootstrapped_demos" },
        { """{"runName":"x","optimizerType":"copro","config":{"breadth":1}}""", "config.breadth" },
        { """{"runName":"x","optimizerType":"miprov2","config":{},"tags":"qa"}""", "tags" },
        { """{"runName":"x","optimizerType":"miprov2","config":{},"id":"not-a-uuid"}""", "id" },
        // 21 tags of 100 characters: each within its limits, 2,100 bytes together.
        { $$"""{"runName":"x","optimizerType":"miprov2","config":{},"tags":{{TagsJson(21, new string('x', 100))}}}""", "tags" },
        // 21 tags of 50 two-byte characters: 1,050 characters, but 2,100 bytes as UTF-8.
        { $$"""{"runName":"x","optimizerType":"miprov2","config":{},"tags":{{TagsJson(21, new string('é', 50))}}}""", "tags" },
    };

    // A JSON array of count distinct tags, each the text with its number in front (which keeps its length).
    private static string TagsJson(int count, string text) =>
        "[" + string.Join(",", Enumerable.Range(0, count).Select(i => $"\"{i:D2}{text[2..]}\"")) + "]";

    [Theory]
    [MemberData(nameof(BadRuns))]
    public async Task InvalidRunsAreRefusedNamingTheField(string body, string field)
    {
        var (_, client, _) = await fixture.NewProjectAsync();

        await (await client.PostRawAsync("/api/optimization/runs", body)).ProblemAsync(HttpStatusCode.BadRequest, field);
    }

    public static TheoryData<string, string, string[]> MissingOrNullRequiredMembers => new()
    {
        { "/api/optimization/runs", "{}", ["runName", "optimizerType", "config"] },
        { "/api/optimization/runs", """{"runName":null,"optimizerType":"miprov2","config":{}}""", ["runName"] },
        { "/api/optimization/runs", """{"runName":"x","optimizerType":null,"config":{}}""", ["optimizerType"] },
        { "/api/optimization/runs", """{"runName":"x","optimizerType":"miprov2","config":null}""", ["config"] },
        { "/api/optimization/runs/{run}/iterations", """{"iteration":null,"kind":"full"}""", ["iteration"] },
        { "/api/optimization/runs/{run}/samples", """{"samples":null}""", ["samples"] },
        { "/api/optimization/runs/{run}/samples", """{"samples":[{"iteration":0,"sampleIndex":0},{"score":1}]}""", ["samples[1].iteration", "samples[1].sampleIndex"] },
        { "/api/optimization/runs/{run}/samples", """{"samples":[{"iteration":0,"sampleIndex":null}]}""", ["samples[0].sampleIndex"] },
        { "/api/optimization/runs/{run}/samples", """{"samples":[{"iteration":0,"sampleIndex":0},null]}""", ["samples[1]"] },
    };

    [Theory]
    [MemberData(nameof(MissingOrNullRequiredMembers))]
    public async Task AMissingOrNullRequiredMemberIsNamedByItsPath(string url, string body, string[] fields)
    {
        var (_, client, _) = await fixture.NewProjectAsync();
        var runId = url.Contains("{run}") ? await client.CreateRunAsync() : Guid.Empty;

        var problem = await (await client.PostRawAsync(url.Replace("{run}", runId.ToString()), body)).ProblemAsync(HttpStatusCode.BadRequest);

        Assert.Equal(fields.Order(), problem.GetProperty("errors").EnumerateObject().Select(e => e.Name).Order());
        if (runId != Guid.Empty)
        {
            Assert.Equal(0, await RunScenario.ReadStoredSampleCountAsync(runId));
            Assert.Equal(0, (await client.GetRunAsync(runId)).GetProperty("completedIterations").GetInt32());
        }
    }

    [Fact]
    public async Task MalformedJsonIsABadRequest()
    {
        var (_, client, _) = await fixture.NewProjectAsync();
        await (await client.PostRawAsync("/api/optimization/runs", """{"runName":"x",""")).ProblemAsync(HttpStatusCode.BadRequest);
        await (await client.PostRawAsync("/api/optimization/runs", "")).ProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task ANonJsonBodyIsUnsupported()
    {
        var (_, client, _) = await fixture.NewProjectAsync();
        var response = await client.PostRawAsync("/api/optimization/runs", HttpJson.ExampleRunBody, "text/plain");
        await response.ProblemAsync(HttpStatusCode.UnsupportedMediaType);
    }

    public static TheoryData<string, string> BadBatches => new()
    {
        { """{"samples":[{"iteration":0,"sampleIndex":0,"score":1.5}]}""", "samples[0].score" },
        { """{"samples":[{"iteration":0,"sampleIndex":0,"score":NaN}]}""", "samples[0].score" },
        { """{"samples":[{"iteration":0,"sampleIndex":0,"score":"1"}]}""", "samples[0].score" },
        { """{"samples":[{"iteration":0,"sampleIndex":0},{"iteration":0,"score":1}]}""", "samples[1].sampleIndex" },
        { """{"samples":[{"iteration":0,"sampleIndex":0,"promptTokens":-5}]}""", "samples[0].promptTokens" },
        { """{"samples":[{"iteration":0,"sampleIndex":0,"traceId":"xyz"}]}""", "samples[0].traceId" },
        { """{"samples":[{"iteration":0,"sampleIndex":0,"success":"yes"}]}""", "samples[0].success" },
        { """{"samples":[{"iteration":0,"sampleIndex":0,"latencyMs":-1}]}""", "samples[0].latencyMs" },
        { """{"samples":[]}""", "samples" },
        { """{}""", "samples" },
    };

    [Theory]
    [MemberData(nameof(BadBatches))]
    public async Task ARejectedBatchWritesNoRow(string body, string field)
    {
        var (_, client, _) = await fixture.NewProjectAsync();
        var runId = await client.CreateRunAsync();
        // A valid sample rides along in every bad batch: it must not be written either.
        var withGoodSample = body.Contains("\"samples\":[{")
            ? body.Replace("\"samples\":[", "\"samples\":[{\"iteration\":0,\"sampleIndex\":99,\"score\":1},")
            : body;
        var shifted = field.StartsWith("samples[", StringComparison.Ordinal)
            ? $"samples[{int.Parse(field[8..field.IndexOf(']')]) + (withGoodSample == body ? 0 : 1)}]{field[(field.IndexOf(']') + 1)..]}"
            : field;

        await (await client.PostRawAsync($"/api/optimization/runs/{runId}/samples", withGoodSample)).ProblemAsync(HttpStatusCode.BadRequest, shifted);

        Assert.Equal(0, await RunScenario.ReadStoredSampleCountAsync(runId));
    }

    [Fact]
    public async Task ABatchOfMoreThanFiveThousandSamplesIsRefused()
    {
        var (_, client, _) = await fixture.NewProjectAsync();
        var runId = await client.CreateRunAsync();

        await (await client.PostJsonAsync($"/api/optimization/runs/{runId}/samples", HttpJson.Samples(0, 0, 5001))).ProblemAsync(HttpStatusCode.BadRequest, "samples");

        Assert.Equal(0, await RunScenario.ReadStoredSampleCountAsync(runId));
    }

    [Fact]
    public async Task AnOversizedBodyIsTooLarge()
    {
        var (_, client, _) = await fixture.NewProjectAsync();
        var runId = await client.CreateRunAsync();
        var huge = new string('x', 33 * 1024 * 1024);

        var response = await client.PostRawAsync($"/api/optimization/runs/{runId}/samples", $$"""{"samples":[{"iteration":0,"sampleIndex":0,"error":"{{huge}}"}]}""");

        await response.ProblemAsync(HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal(0, await RunScenario.ReadStoredSampleCountAsync(runId));
    }

    public static TheoryData<string, string> BadIterations => new()
    {
        { """{"kind":"full","score":0.5}""", "iteration" },
        { """{"iteration":1,"kind":"huge"}""", "kind" },
        { """{"iteration":1,"kind":"full","score":-0.5}""", "score" },
        { """{"iteration":1,"kind":"full","samplesEvaluated":1,"samplesSuccessful":2}""", "samplesEvaluated" },
        { """{"iteration":1,"kind":"full","startedAt":"2026-11-26T10:00:41Z","completedAt":"2026-11-26T10:00:00Z"}""", "completedAt" },
        { """{"iteration":1,"kind":"full","params":[1,2]}""", "params" },
        { """{"iteration":1,"kind":"full","startedAt":"yesterday"}""", "startedAt" },
    };

    [Theory]
    [MemberData(nameof(BadIterations))]
    public async Task InvalidIterationsAreRefusedNamingTheField(string body, string field)
    {
        var (_, client, _) = await fixture.NewProjectAsync();
        var runId = await client.CreateRunAsync();

        await (await client.PostRawAsync($"/api/optimization/runs/{runId}/iterations", body)).ProblemAsync(HttpStatusCode.BadRequest, field);

        var run = await client.GetRunAsync(runId);
        Assert.Equal(0, run.GetProperty("completedIterations").GetInt32());
        Assert.Equal("pending", run.GetProperty("status").GetString());
    }

    public static TheoryData<string, string> BadPatches => new()
    {
        { """{"status":"pending"}""", "status" },
        { """{"status":"paused"}""", "status" },
        { """{"status":"completed","finalScore":1.01}""", "finalScore" },
        { """{"status":"failed","finalScore":0.5}""", "finalScore" },
        { """{"runName":""}""", "runName" },
        { """{"tags":["ok",""]}""", "tags[1]" },
        { $$"""{"tags":{{TagsJson(21, new string('x', 100))}}}""", "tags" },
        // A transition's fields without the status were once answered 200 and dropped.
        { """{"finalScore":0.7}""", "finalScore" },
        { """{"runName":"renamed","errorMessage":"boom"}""", "errorMessage" },
    };

    [Theory]
    [MemberData(nameof(BadPatches))]
    public async Task InvalidPatchesChangeNothing(string body, string field)
    {
        var (_, client, _) = await fixture.NewProjectAsync();
        var runId = await client.CreateRunAsync();
        var before = await client.GetRunAsync(runId);

        await (await client.PatchAsync($"/api/optimization/runs/{runId}", new StringContent(body, System.Text.Encoding.UTF8, "application/json")))
            .ProblemAsync(HttpStatusCode.BadRequest, field);

        var after = await client.GetRunAsync(runId);
        Assert.Equal(before.GetProperty("updatedAt").GetString(), after.GetProperty("updatedAt").GetString());
        Assert.Equal("pending", after.GetProperty("status").GetString());
    }

    [Theory]
    [InlineData("""{"phase":"searching","currentIteration":-1}""", "currentIteration")]
    [InlineData("""{"phase":"searching","currentIteration":"three"}""", "currentIteration")]
    public async Task InvalidProgressIsRefused(string body, string field)
    {
        var (_, client, _) = await fixture.NewProjectAsync();
        var runId = await client.CreateRunAsync();

        await (await client.PostRawAsync($"/api/optimization/runs/{runId}/progress", body)).ProblemAsync(HttpStatusCode.BadRequest, field);

        Assert.Equal("pending", (await client.GetRunAsync(runId)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task AnInvalidProjectIsRefused()
    {
        using var admin = fixture.Admin();
        await (await admin.PostRawAsync("/api/projects", """{"name":""}""")).ProblemAsync(HttpStatusCode.BadRequest, "name");
    }
}
