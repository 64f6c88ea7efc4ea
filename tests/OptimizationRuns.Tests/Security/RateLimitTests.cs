using System.Net;
using System.Net.Http.Headers;
using OptimizationRuns.Tests.Fixtures;
using OptimizationRuns.Tests.Gateway;
using Xunit;

namespace OptimizationRuns.Tests.Security;

/// <summary>Each key has its own budget: one key over it is answered 429 with Retry-After, another key is not.</summary>
[Collection(GatewayCollection.Name)]
public sealed class RateLimitTests(GatewayFixture fixture)
{
    private GatewayFactory Limited(int perSecond, int burst) => new(fixture.Client, new Dictionary<string, string?>
    {
        ["OPTRUNS_ADMIN_KEY"] = GatewayFixture.AdminKey,
        ["Security:RequestsPerSecond"] = perSecond.ToString(),
        ["Security:RequestBurst"] = burst.ToString(),
    });

    private static HttpClient Client(GatewayFactory gateway, string key)
    {
        var client = gateway.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    [Fact]
    public async Task AKeyOverItsBudgetIsAnswered429WithRetryAfterAndOtherKeysAreNot()
    {
        await using var gateway = Limited(perSecond: 10, burst: 5);
        var (_, first, firstKey) = await fixture.NewProjectAsync();
        var (_, second, secondKey) = await fixture.NewProjectAsync();
        first.Dispose();
        second.Dispose();
        using var busy = Client(gateway, firstKey.Key);
        using var quiet = Client(gateway, secondKey.Key);

        var answers = new List<HttpResponseMessage>();
        for (var i = 0; i < 20; i++)
        {
            answers.Add(await busy.GetAsync("/api/optimization/runs"));
        }

        var refused = answers.Where(a => a.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.NotEmpty(refused);
        Assert.True(answers.Count(a => a.StatusCode == HttpStatusCode.OK) >= 5, "the burst was not allowed");
        Assert.All(refused, r => Assert.True(r.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), $"Retry-After is {r.Headers.RetryAfter}"));
        await refused[0].ProblemAsync(HttpStatusCode.TooManyRequests);
        await (await quiet.GetAsync("/api/optimization/runs")).JsonAsync(HttpStatusCode.OK);
        answers.ForEach(a => a.Dispose());
    }
}
