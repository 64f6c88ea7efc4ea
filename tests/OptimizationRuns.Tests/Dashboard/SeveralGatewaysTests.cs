using System.Net;
using System.Text.RegularExpressions;
using OptimizationRuns.Tests.Faults;
using OptimizationRuns.Tests.Gateway;
using Xunit;
using Xunit.Abstractions;

namespace OptimizationRuns.Tests.Dashboard;

/// <summary>
/// Several gateway processes behind one address: a session signed in on one gateway is accepted by another that
/// shares its Data Protection key directory (<c>Dashboard__KeysDirectory</c>), and refused — a redirect to sign in —
/// by one that keeps its keys elsewhere. Real processes and real HTTP, the sign-in form posted as a browser posts it.
/// </summary>
[Collection(ProcessFaults.Name)]
public sealed partial class SeveralGatewaysTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string _sharedKeys = Directory.CreateTempSubdirectory("optruns-keys-shared-").FullName;
    private readonly string _otherKeys = Directory.CreateTempSubdirectory("optruns-keys-other-").FullName;
    private SiloCluster _cluster = null!;

    public async Task InitializeAsync() =>
        _cluster = await SiloCluster.StartAsync(silos: 1, new Dictionary<string, string> { ["Dashboard__KeysDirectory"] = _sharedKeys });

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        Directory.Delete(_sharedKeys, recursive: true);
        Directory.Delete(_otherKeys, recursive: true);
    }

    [Fact]
    public async Task ASessionFromOneGatewayIsAcceptedByAnotherSharingItsKeysAndRefusedByOneWithOtherKeys()
    {
        var sharing = await _cluster.StartGatewayAsync(new Dictionary<string, string> { ["Dashboard__KeysDirectory"] = _sharedKeys });
        var other = await _cluster.StartGatewayAsync(new Dictionary<string, string> { ["Dashboard__KeysDirectory"] = _otherKeys });
        using var api = await _cluster.ProjectClientAsync();
        var key = api.DefaultRequestHeaders.Authorization!.Parameter!;
        var runId = await api.CreateRunWhenReadyAsync();
        var runName = (await (await api.GetAsync($"/api/optimization/runs/{runId}")).JsonAsync(HttpStatusCode.OK)).GetProperty("runName").GetString()!;

        var session = await SignInAsync(_cluster.Address, key);
        Assert.NotEmpty(Directory.GetFiles(_sharedKeys, "key-*.xml"));

        foreach (var path in new[] { $"/runs/{runId}", "/runs" })
        {
            using var page = await GetPageAsync(sharing, path, session);
            Assert.True(page.StatusCode == HttpStatusCode.OK, $"{path} on the gateway sharing the keys answered {(int)page.StatusCode} {page.Headers.Location}");
            Assert.Contains(WebUtility.HtmlEncode(runName), await page.Content.ReadAsStringAsync());
        }

        using (var refused = await GetPageAsync(other, $"/runs/{runId}", session))
        {
            Assert.Equal(HttpStatusCode.Redirect, refused.StatusCode);
            Assert.StartsWith("/signin", refused.Headers.Location?.OriginalString);
        }

        output.WriteLine($"signed in on {_cluster.Address}; accepted by {sharing} (same key directory), refused by {other} (its own)");
    }

    // The sign-in form as a browser posts it: its antiforgery token and cookie from the form's page, then the key.
    private static async Task<string> SignInAsync(Uri gateway, string key)
    {
        using var http = NoCookies(gateway);
        using var form = await http.GetAsync("/signin");
        Assert.Equal(HttpStatusCode.OK, form.StatusCode);
        var token = AntiforgeryToken().Match(await form.Content.ReadAsStringAsync());
        Assert.True(token.Success, "the sign-in form has no antiforgery token");
        using var post = new HttpRequestMessage(HttpMethod.Post, "/signin")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["_handler"] = "signin",
                ["__RequestVerificationToken"] = WebUtility.HtmlDecode(token.Groups[1].Value),
                ["Form.ApiKey"] = key,
            }),
        };
        post.Headers.Add("Cookie", string.Join("; ", Cookies(form).Select(c => $"{c.Name}={c.Value}")));
        using var signedIn = await http.SendAsync(post);
        Assert.True(signedIn.StatusCode == HttpStatusCode.Redirect, $"signing in answered {(int)signedIn.StatusCode}");
        return Cookies(signedIn).Single(c => c.Name == "optruns_session").Value;
    }

    // A 503 (a busy machine: the gateway's grain call passed its deadline) is asked again, as a reader reloads.
    private static async Task<HttpResponseMessage> GetPageAsync(Uri gateway, string path, string session)
    {
        using var http = NoCookies(gateway);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Add("Cookie", $"optruns_session={session}");
            var response = await http.SendAsync(request);
            if (response.StatusCode != HttpStatusCode.ServiceUnavailable || DateTime.UtcNow > deadline)
            {
                return response;
            }

            response.Dispose();
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
    }

    // Cookies and redirects by hand: each request carries exactly the cookie the test means it to.
    private static HttpClient NoCookies(Uri gateway) =>
        new(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = gateway, Timeout = TimeSpan.FromSeconds(60) };

    private static IEnumerable<(string Name, string Value)> Cookies(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Set-Cookie", out var values)
            ? values.Select(v => v.Split(';')[0]).Select(v => (v[..v.IndexOf('=')], v[(v.IndexOf('=') + 1)..]))
            : [];

    [GeneratedRegex("name=\"__RequestVerificationToken\"[^>]*value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryToken();
}
