using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OptimizationRuns.Gateway.Contracts;
using OptimizationRuns.Grains;
using OptimizationRuns.Grains.Data;
using OptimizationRuns.Tests.Fixtures;
using Xunit;
using static OptimizationRuns.Tests.Gateway.ReadSideDriver;

namespace OptimizationRuns.Tests.Gateway;

/// <summary>GET /api/optimization/runs: filters, sort orders, keyset pages and validation, through real HTTP.</summary>
[Collection(GatewayCollection.Name)]
public sealed class RunListApiTests(GatewayFixture fixture)
{
    private const string Runs = "/api/optimization/runs";

    private async Task<ReadSideDriver> NewProjectAsync() => new((await fixture.NewProjectAsync()).Client);

    [Fact]
    public async Task ListShowsOnlyTheCallersRunsNewestFirst()
    {
        var a = await NewProjectAsync();
        var b = await NewProjectAsync();
        var first = await a.CreateRunAsync("first", config: new { optimizer = "miprov2", metric = "accuracy" }, tags: ["qa"]);
        var second = await a.CreateRunAsync("second", "gepa");
        var third = await a.CreateRunAsync("third");
        var theirs = await b.CreateRunAsync("theirs");

        var list = await a.GetAsync(Runs);
        var other = await b.GetAsync(Runs);

        Assert.Equal([third, second, first], Ids(list));
        Assert.Equal(JsonValueKind.Null, list.GetProperty("nextCursor").ValueKind);
        Assert.Equal([theirs], Ids(other));
        var item = list.GetProperty("items")[2];
        Assert.Equal("first", item.GetProperty("runName").GetString());
        Assert.Equal("miprov2", item.GetProperty("optimizerType").GetString());
        Assert.Equal("pending", item.GetProperty("status").GetString());
        AssertJson("""{"optimizer":"miprov2","metric":"accuracy"}""", item.GetProperty("config"));
        Assert.Equal(["qa"], item.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal(JsonValueKind.Null, item.GetProperty("phase").ValueKind);
        Assert.Equal(JsonValueKind.Null, item.GetProperty("lastHeartbeatAt").ValueKind);
        // The list item is the run as GET /runs/{id} answers it, apart from live state.
        var run = await a.GetAsync($"{Runs}/{first}");
        foreach (var field in new[] { "id", "projectId", "runName", "status", "config", "metadata", "createdAt", "updatedAt", "samplesEvaluated" })
        {
            Assert.Equal(run.GetProperty(field).GetRawText(), item.GetProperty(field).GetRawText());
        }
    }

    [Fact]
    public async Task StatusFilterReturnsExactlyTheRunsInThatStatus()
    {
        var p = await NewProjectAsync();
        var pending = await p.CreateRunAsync("pending");
        var running = await p.CreateRunAsync("running");
        await p.StartAsync(running);
        var completed = await p.CreateRunAsync("completed");
        await p.CompleteAsync(completed, 0.5m);
        var failed = await p.CreateRunAsync("failed");
        await p.PatchAsync(failed, new { status = "failed", errorMessage = "boom" });
        var cancelled = await p.CreateRunAsync("cancelled");
        await p.PatchAsync(cancelled, new { status = "cancelled" });

        Assert.Equal([pending], Ids(await p.GetAsync($"{Runs}?status=pending")));
        Assert.Equal([running], Ids(await p.GetAsync($"{Runs}?status=running")));
        Assert.Equal([completed], Ids(await p.GetAsync($"{Runs}?status=completed")));
        Assert.Equal([failed], Ids(await p.GetAsync($"{Runs}?status=failed")));
        Assert.Equal([cancelled], Ids(await p.GetAsync($"{Runs}?status=cancelled")));
        Assert.Empty(Ids(await p.GetAsync($"{Runs}?status=stalled")));
    }

    [Fact]
    public async Task OptimizerTypeFilterReturnsExactlyThatOptimizersRuns()
    {
        var p = await NewProjectAsync();
        var mipro1 = await p.CreateRunAsync("m1");
        var gepa = await p.CreateRunAsync("g", "gepa");
        var mipro2 = await p.CreateRunAsync("m2");
        var random = await p.CreateRunAsync("r", "bootstrap_fewshot_random_search");

        Assert.Equal([mipro2, mipro1], Ids(await p.GetAsync($"{Runs}?optimizerType=miprov2")));
        Assert.Equal([gepa], Ids(await p.GetAsync($"{Runs}?optimizerType=gepa")));
        Assert.Equal([random], Ids(await p.GetAsync($"{Runs}?optimizerType=bootstrap_fewshot_random_search")));
        Assert.Empty(Ids(await p.GetAsync($"{Runs}?optimizerType=copro")));
    }

    [Fact]
    public async Task EveryGivenTagMustBeOnTheRun()
    {
        var p = await NewProjectAsync();
        var both = await p.CreateRunAsync("both", tags: ["qa", "prod"]);
        var qa = await p.CreateRunAsync("qa", tags: ["qa"]);
        var more = await p.CreateRunAsync("more", tags: ["prod", "extra", "qa"]);
        await p.CreateRunAsync("none");

        Assert.Equal([more, both], Ids(await p.GetAsync($"{Runs}?tag=qa&tag=prod")));
        Assert.Equal([more, qa, both], Ids(await p.GetAsync($"{Runs}?tag=qa")));
        Assert.Equal([more], Ids(await p.GetAsync($"{Runs}?tag=extra&tag=qa")));
        Assert.Empty(Ids(await p.GetAsync($"{Runs}?tag=qa&tag=missing")));
    }

    // The list's order indexes carry each run's tags (migration 0017), whose entries hold at most 2,704 bytes: a run
    // at the tags' limits (50 tags, 2,000 bytes together, nothing to compress) is stored, found by its tags, and can
    // take another such set.
    [Fact]
    public async Task ARunWithTheMostTagsTheLimitsAllowIsKeptAndFound()
    {
        var p = await NewProjectAsync();
        var tags = MostTags();
        var run = await p.CreateRunAsync("tagged", tags: tags);
        await p.CreateRunAsync("other", tags: ["qa"]);

        Assert.Equal([run], Ids(await p.GetAsync($"{Runs}?tag={tags[^1]}")));
        Assert.Equal([run], Ids(await p.GetAsync($"{Runs}?tag={tags[0]}&tag={tags[49]}")));

        var retagged = MostTags();
        await p.PatchAsync(run, new { tags = retagged });
        Assert.Empty(Ids(await p.GetAsync($"{Runs}?tag={tags[0]}")));
        Assert.Equal([run], Ids(await p.GetAsync($"{Runs}?tag={retagged[7]}")));
    }

    // 50 distinct tags of 40 random hexadecimal characters: 2,000 bytes, Limits.MaxTagBytes.
    private static string[] MostTags() =>
        [.. Enumerable.Range(0, Limits.MaxTags).Select(_ => (Guid.NewGuid().ToString("N") + Guid.NewGuid().ToString("N"))[..40])];

    [Fact]
    public async Task ConfigFilterMatchesRunsWhoseConfigContainsTheObject()
    {
        var p = await NewProjectAsync();
        var gpt4 = await p.CreateRunAsync("a", "custom", new { model = "gpt-4", temperature = 0.7 });
        await p.CreateRunAsync("b", "custom", new { model = "gpt-4o" });
        var gpt4Threads = await p.CreateRunAsync("c", "custom", new { model = "gpt-4", num_threads = 8 });
        var nested = await p.CreateRunAsync("d", "custom", new { nested = new { model = "gpt-4" } });

        Assert.Equal([gpt4Threads, gpt4], Ids(await p.GetAsync($"{Runs}?config={Query(new { model = "gpt-4" })}")));
        Assert.Equal([gpt4Threads], Ids(await p.GetAsync($"{Runs}?config={Query(new { model = "gpt-4", num_threads = 8 })}")));
        Assert.Equal([nested], Ids(await p.GetAsync($"{Runs}?config={Query(new { nested = new { model = "gpt-4" } })}")));
        Assert.Empty(Ids(await p.GetAsync($"{Runs}?config={Query(new { model = "gpt-4", num_threads = 4 })}")));
        Assert.Equal(4, Ids(await p.GetAsync($"{Runs}?config={Query("{}")}")).Count);
    }

    [Fact]
    public async Task MetadataFilterMatchesRunsWhoseMetadataContainsTheObject()
    {
        var p = await NewProjectAsync();
        var sha = await CreateRunWithMetadataAsync(p, "a", new { git_sha = "c4ca423", branch = "main" });
        await CreateRunWithMetadataAsync(p, "b", new { git_sha = "c81e728", branch = "main" });
        var nested = await CreateRunWithMetadataAsync(p, "c", new { git = new { sha = "c4ca423" }, labels = new[] { "x", "y" } });
        await p.CreateRunAsync("no metadata");

        Assert.Equal([sha], Ids(await p.GetAsync($"{Runs}?metadata={Query(new { git_sha = "c4ca423" })}")));
        Assert.Equal(2, Ids(await p.GetAsync($"{Runs}?metadata={Query(new { branch = "main" })}")).Count);
        Assert.Equal([nested], Ids(await p.GetAsync($"{Runs}?metadata={Query(new { git = new { sha = "c4ca423" } })}")));
        Assert.Equal([nested], Ids(await p.GetAsync($"{Runs}?metadata={Query(new { labels = new[] { "y" } })}")));
        Assert.Empty(Ids(await p.GetAsync($"{Runs}?metadata={Query(new { git_sha = "c4ca423", branch = "dev" })}")));
        Assert.Equal(4, Ids(await p.GetAsync($"{Runs}?metadata={Query("{}")}")).Count);
        // Metadata and config are separate documents.
        Assert.Empty(Ids(await p.GetAsync($"{Runs}?config={Query(new { git_sha = "c4ca423" })}")));
        Assert.Equal([sha], Ids(await p.GetAsync($"{Runs}?metadata={Query(new { git_sha = "c4ca423" })}&q=a")));
    }

    [Fact]
    public async Task SearchesNeverShowAnotherProjectsRuns()
    {
        var a = await NewProjectAsync();
        var b = await NewProjectAsync();
        var mine = await CreateRunWithMetadataAsync(a, "shared-name", new { git_sha = "c4ca423" }, new { model = "gpt-4" }, ["shared"]);
        for (var i = 0; i < 3; i++)
        {
            await CreateRunWithMetadataAsync(b, $"shared-name {i}", new { git_sha = "c4ca423" }, new { model = "gpt-4" }, ["shared"]);
        }

        foreach (var search in new[]
                 {
                     "tag=shared", $"config={Query(new { model = "gpt-4" })}", $"metadata={Query(new { git_sha = "c4ca423" })}", "q=shared-name",
                     $"tag=shared&config={Query(new { model = "gpt-4" })}&metadata={Query(new { git_sha = "c4ca423" })}&q=name",
                 })
        {
            Assert.Equal([mine], Ids(await a.GetAsync($"{Runs}?{search}")));
            Assert.Equal(3, Ids(await b.GetAsync($"{Runs}?{search}")).Count);
            Assert.Empty(Ids(await (await NewProjectAsync()).GetAsync($"{Runs}?{search}")));
        }
    }

    // A search reads its page along the list's order when the page is there, else by the ids of every match: both
    // answer exactly the matching runs, in the list's order, page after page (RunListSearchTests does the same on a
    // large data set, where matches can also be too many for their ids).
    [Fact]
    public async Task SearchesAnswerEveryMatchInOrderPageAfterPage()
    {
        var p = await NewProjectAsync();
        const int many = 205;
        for (var i = 0; i < many; i += 15)
        {
            await Task.WhenAll(Enumerable.Range(i, Math.Min(15, many - i)).Select(n =>
                p.CreateRunAsync($"run {n}", tags: n % 40 == 0 ? ["many", "few"] : ["many"])));
        }

        await p.CreateRunAsync("untagged");
        var (all, _) = await p.AllPagesAsync($"{Runs}?limit=100");
        List<Guid> Tagged(string tag) => all
            .Where(item => item.GetProperty("tags").EnumerateArray().Any(t => t.GetString() == tag)).Select(Id).ToList();

        Assert.Equal(many, Tagged("many").Count);
        Assert.Equal(6, Tagged("few").Count);
        // Pages filled along the order.
        Assert.Equal(Tagged("many"), (await p.AllPagesAsync($"{Runs}?tag=many&limit=37")).Items.Select(Id).ToList());
        Assert.Equal(Tagged("few"), (await p.AllPagesAsync($"{Runs}?tag=few&limit=2")).Items.Select(Id).ToList());
        Assert.Equal(Tagged("many").Take(20), Ids(await p.GetAsync($"{Runs}?q=run")));
        // Fewer matches than the page holds: read by their ids.
        Assert.Equal(Tagged("few"), Ids(await p.GetAsync($"{Runs}?tag=few")));
        Assert.Equal(Tagged("few"), Ids(await p.GetAsync($"{Runs}?tag=many&tag=few&q=run")));
        Assert.Equal(Tagged("few").Skip(2), Ids(await p.GetAsync(
            $"{Runs}?tag=few&cursor={(await p.GetAsync($"{Runs}?tag=few&limit=2")).GetProperty("nextCursor").GetString()}")));
        Assert.Empty(Ids(await p.GetAsync($"{Runs}?tag=few&tag=untagged")));
    }

    [Fact]
    public async Task NameSearchIsCaseInsensitiveAndTakesWildcardsLiterally()
    {
        var p = await NewProjectAsync();
        var spaced = await p.CreateRunAsync("Alpha run");
        var underscore = await p.CreateRunAsync("alpha_2");
        var percent = await p.CreateRunAsync("ALPHA%3");
        await p.CreateRunAsync("beta");
        var lookalike = await p.CreateRunAsync("alphaX2");

        Assert.Equal([lookalike, percent, underscore, spaced], Ids(await p.GetAsync($"{Runs}?q=alpha")));
        Assert.Equal([underscore], Ids(await p.GetAsync($"{Runs}?q={Query("a_2")}")));
        Assert.Equal([percent], Ids(await p.GetAsync($"{Runs}?q={Query("%")}")));
        Assert.Equal([spaced], Ids(await p.GetAsync($"{Runs}?q={Query("HA R")}")));
        Assert.Empty(Ids(await p.GetAsync($"{Runs}?q={Query(@"\")}")));
    }

    [Fact]
    public async Task MinScoreCountsTheFinalScoreElseTheBestSoFar()
    {
        var p = await NewProjectAsync();
        var completed = await p.CreateRunAsync("completed 0.7");
        await p.CompleteAsync(completed, 0.7m);
        var running = await p.CreateRunAsync("running best 0.8");
        await p.RecordIterationAsync(running, 0, "full", 0.8m);
        await p.CreateRunAsync("unscored");
        var finalBelowBest = await p.CreateRunAsync("best 0.9, final 0.5");
        await p.RecordIterationAsync(finalBelowBest, 0, "full", 0.9m);
        await p.CompleteAsync(finalBelowBest, 0.5m);

        Assert.Equal([running, completed], Ids(await p.GetAsync($"{Runs}?minScore=0.6")));
        Assert.Equal([running], Ids(await p.GetAsync($"{Runs}?minScore=0.8")));
        Assert.Equal([finalBelowBest, running, completed], Ids(await p.GetAsync($"{Runs}?minScore=0")));
    }

    [Fact]
    public async Task CreatedAfterIsInclusiveAndCreatedBeforeExclusive()
    {
        var p = await NewProjectAsync();
        var first = await p.CreateRunAsync("first");
        var second = await p.CreateRunAsync("second");
        var third = await p.CreateRunAsync("third");
        var created = (await p.GetAsync(Runs)).GetProperty("items").EnumerateArray()
            .ToDictionary(Id, item => item.GetProperty("createdAt").GetString()!);

        Assert.Equal([third, second], Ids(await p.GetAsync($"{Runs}?createdAfter={Query(created[second])}")));
        Assert.Equal([first], Ids(await p.GetAsync($"{Runs}?createdBefore={Query(created[second])}")));
        Assert.Equal([second, first],
            Ids(await p.GetAsync($"{Runs}?createdAfter={Query(created[first])}&createdBefore={Query(created[third])}")));
        Assert.Empty(Ids(await p.GetAsync($"{Runs}?createdAfter={Query(DateTime.UtcNow.AddHours(1).ToString("O"))}")));
    }

    [Fact]
    public async Task ScoreSortsPutRunsWithoutTheScoreLastAndPageAcrossThem()
    {
        var p = await NewProjectAsync();
        // (final, best, improvement) as the database derives them.
        var runs = new Dictionary<Guid, (decimal? Final, decimal? Best, decimal? Improvement)>();
        var a = await p.CreateRunAsync("a", baselineScore: 0.5m);
        await p.CompleteAsync(a, 0.9m);
        runs[a] = (0.9m, null, 0.4m);
        var b = await p.CreateRunAsync("b", baselineScore: 0.4m);
        await p.RecordIterationAsync(b, 0, "full", 0.6m);
        await p.CompleteAsync(b, 0.7m);
        runs[b] = (0.7m, 0.6m, 0.3m);
        var c = await p.CreateRunAsync("c", baselineScore: 0.5m);
        await p.RecordIterationAsync(c, 0, "full", 0.8m);
        runs[c] = (null, 0.8m, 0.3m);
        var d = await p.CreateRunAsync("d");
        await p.RecordIterationAsync(d, 0, "full", 0.7m);
        await p.RecordIterationAsync(d, 1, "minibatch", 0.95m);
        runs[d] = (null, 0.7m, null);
        var e = await p.CreateRunAsync("e");
        runs[e] = (null, null, null);
        var f = await p.CreateRunAsync("f", baselineScore: 0.2m);
        await p.CompleteAsync(f, 0.7m);
        runs[f] = (0.7m, null, 0.5m);
        var g = await p.CreateRunAsync("g");
        runs[g] = (null, null, null);

        foreach (var (sort, value) in new (string, Func<(decimal? Final, decimal? Best, decimal? Improvement), decimal?>)[]
                 {
                     ("-finalScore", r => r.Final), ("-bestScore", r => r.Best), ("-improvement", r => r.Improvement),
                 })
        {
            var expected = runs
                .OrderBy(r => value(r.Value) is null)
                .ThenByDescending(r => value(r.Value))
                .ThenByDescending(r => UuidOrder(r.Key), StringComparer.Ordinal)
                .Select(r => r.Key)
                .ToList();

            var all = await p.GetAsync($"{Runs}?sort={sort}");
            Assert.Equal(expected, Ids(all));
            foreach (var item in all.GetProperty("items").EnumerateArray())
            {
                var field = sort[1..];
                var shown = item.GetProperty(field);
                Assert.Equal(value(runs[Id(item)]), shown.ValueKind == JsonValueKind.Null ? null : shown.GetDecimal());
            }

            foreach (var limit in new[] { 1, 2, 3 })
            {
                var (items, pages) = await p.AllPagesAsync($"{Runs}?sort={sort}&limit={limit}");
                Assert.Equal(expected, items.Select(Id).ToList());
                Assert.Equal((expected.Count + limit - 1) / limit, pages);
            }
        }
    }

    [Fact]
    public async Task PagesStayCompleteAndFreeOfDuplicatesWhileRunsArrive()
    {
        var p = await NewProjectAsync();
        var created = new List<Guid>();
        for (var i = 0; i < 25; i++)
        {
            created.Add(await p.CreateRunAsync($"run {i}"));
        }

        var arrived = 0;
        var (items, pages) = await p.AllPagesAsync($"{Runs}?limit=10", async () =>
        {
            for (var i = 0; i < 3; i++)
            {
                await p.CreateRunAsync($"arrived {arrived++}");
            }
        });

        created.Reverse();
        Assert.Equal(created, items.Select(Id).ToList());
        Assert.Equal(3, pages);
        Assert.Equal(6, arrived);
        Assert.Equal(31, (await p.AllPagesAsync($"{Runs}?limit=100")).Items.Select(Id).Distinct().Count());
    }

    [Fact]
    public async Task FiltersAndCursorsCombine()
    {
        var p = await NewProjectAsync();
        var expected = new List<Guid>();
        for (var i = 0; i < 7; i++)
        {
            var run = await p.CreateRunAsync($"run {i}", i % 2 == 0 ? "gepa" : "miprov2", tags: i % 3 == 0 ? ["x"] : ["y"]);
            if (i % 2 == 1)
            {
                expected.Insert(0, run);
            }
        }

        var (items, pages) = await p.AllPagesAsync($"{Runs}?optimizerType=miprov2&limit=2");

        Assert.Equal(expected, items.Select(Id).ToList());
        Assert.Equal(2, pages);
        var (tagged, _) = await p.AllPagesAsync($"{Runs}?optimizerType=miprov2&tag=x&limit=1");
        Assert.Equal([expected[1]], tagged.Select(Id));
    }

    [Theory]
    [InlineData("limit=101", "limit")]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=ten", "limit")]
    [InlineData("cursor=not-a-cursor", "cursor")]
    [InlineData("cursor=AAAA", "cursor")]
    [InlineData("config=%7Bnot%20json", "config")]
    [InlineData("config=%5B1%5D", "config")]
    [InlineData("config=%22gpt-4%22", "config")]
    [InlineData("metadata=%7Bnot%20json", "metadata")]
    [InlineData("metadata=%5B1%5D", "metadata")]
    [InlineData("metadata=%22c4ca423%22", "metadata")]
    [InlineData("metadata=null", "metadata")]
    [InlineData("sort=name", "sort")]
    [InlineData("sort=createdAt", "sort")]
    [InlineData("status=done", "status")]
    [InlineData("status=Running", "status")]
    [InlineData("optimizerType=dspy", "optimizerType")]
    [InlineData("minScore=1.5", "minScore")]
    [InlineData("minScore=-0.1", "minScore")]
    [InlineData("createdAfter=yesterday", "createdAfter")]
    [InlineData("createdAfter=2026-01-02T00:00:00Z&createdBefore=2026-01-01T00:00:00Z", "createdBefore")]
    public async Task InvalidQueryIsAProblemNamingTheParameter(string query, string field)
    {
        var p = await NewProjectAsync();
        await p.ExpectInvalidAsync($"{Runs}?{query}", field);
    }

    [Fact]
    public async Task JsonFiltersLongerThan4096CharactersAreRefused()
    {
        var p = await NewProjectAsync();
        var longest = $$"""{"k":"{{new string('x', QueryParameters.MaxConfigLength - 8)}}"}""";
        Assert.Equal(QueryParameters.MaxConfigLength, longest.Length);

        Assert.Empty(Ids(await p.GetAsync($"{Runs}?metadata={Query(longest)}")));
        Assert.Empty(Ids(await p.GetAsync($"{Runs}?config={Query(longest)}")));
        await p.ExpectInvalidAsync($"{Runs}?metadata={Query(longest.Replace("\"k\"", "\"kk\""))}", "metadata");
        await p.ExpectInvalidAsync($"{Runs}?config={Query(longest.Replace("\"k\"", "\"kk\""))}", "config");
    }

    [Fact]
    public async Task ForeignOrMalformedCursorsAreRefused()
    {
        var p = await NewProjectAsync();
        for (var i = 0; i < 3; i++)
        {
            await p.CreateRunAsync($"run {i}");
        }

        var cursor = (await p.GetAsync($"{Runs}?limit=1")).GetProperty("nextCursor").GetString()!;
        var scoreCursor = (await p.GetAsync($"{Runs}?limit=1&sort=-bestScore")).GetProperty("nextCursor").GetString()!;
        // A cursor is a position in the caller's own list, not a secret: only what does not parse as one is refused.
        var truncated = cursor[..^4];

        Assert.Single(Ids(await p.GetAsync($"{Runs}?limit=1&cursor={cursor}")));
        await p.ExpectInvalidAsync($"{Runs}?limit=1&cursor={truncated}", "cursor");
        await p.ExpectInvalidAsync($"{Runs}?limit=1&cursor=not-a-cursor", "cursor");
        await p.ExpectInvalidAsync($"{Runs}?limit=1&cursor={scoreCursor}", "cursor");
        await p.ExpectInvalidAsync($"{Runs}?limit=1&sort=-finalScore&cursor={scoreCursor}", "cursor");
        Assert.Single(Ids(await p.GetAsync($"{Runs}?limit=1&sort=-bestScore&cursor={scoreCursor}")));
    }

    [Fact]
    public async Task ListingWithoutAKeyIsUnauthorized()
    {
        using var anonymous = fixture.ClientWithKey(null);
        var response = await anonymous.GetAsync(Runs);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    private static async Task<Guid> CreateRunWithMetadataAsync(
        ReadSideDriver p, string name, object metadata, object? config = null, string[]? tags = null)
    {
        var response = await p.Http.PostAsJsonAsync(Runs, new { runName = name, optimizerType = "custom", config = config ?? new { }, metadata, tags });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }
}
