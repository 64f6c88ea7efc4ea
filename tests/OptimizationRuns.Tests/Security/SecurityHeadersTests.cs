using System.Net;
using OptimizationRuns.Tests.Fixtures;
using Xunit;

namespace OptimizationRuns.Tests.Security;

/// <summary>Every answer, success or error, carries the security headers; pages may run no inline script.</summary>
[Collection(GatewayCollection.Name)]
public sealed class SecurityHeadersTests(GatewayFixture fixture)
{
    public static TheoryData<string, HttpStatusCode> Answers => new()
    {
        { "/health/live", HttpStatusCode.OK },
        { "/api/optimization/runs", HttpStatusCode.Unauthorized },
        { "/no/such/page", HttpStatusCode.NotFound },
        { "/api/optimization/runs?api_key=x", HttpStatusCode.BadRequest },
        { "/openapi/v1.json", HttpStatusCode.OK },
    };

    [Theory]
    [MemberData(nameof(Answers))]
    public async Task EveryAnswerCarriesTheSecurityHeaders(string url, HttpStatusCode status)
    {
        using var client = fixture.ClientWithKey(null);
        using var response = await client.GetAsync(url);
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("nosniff", Header(response, "X-Content-Type-Options"));
        Assert.Equal("no-referrer", Header(response, "Referrer-Policy"));
        var policy = Header(response, "Content-Security-Policy");
        Assert.Contains("default-src 'self'", policy);
        Assert.Contains("frame-ancestors 'none'", policy);
        Assert.DoesNotContain("unsafe-inline", policy);
        Assert.DoesNotContain("unsafe-eval", policy);
    }

    [Fact]
    public async Task TheApiReferenceMayRunItsInlineScriptButCannotBeFramed()
    {
        using var client = fixture.ClientWithKey(null);
        using var response = await client.GetAsync("/docs");
        var policy = Header(response, "Content-Security-Policy");
        Assert.Contains("frame-ancestors 'none'", policy);
        Assert.Contains("script-src 'self' 'unsafe-inline'", policy);
        Assert.Equal("nosniff", Header(response, "X-Content-Type-Options"));
    }

    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : throw new Xunit.Sdk.XunitException($"no {name} header on {response.RequestMessage?.RequestUri}");
}
