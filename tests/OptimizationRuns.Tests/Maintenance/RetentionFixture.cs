using System.Net.Http.Headers;
using OptimizationRuns.Tests.Fixtures;

namespace OptimizationRuns.Tests.Maintenance;

/// <summary>
/// One silo with retention exporting to a temporary directory (no schedule: tests run passes themselves, with no pause
/// between runs and three runs a pass), and the real gateway in front of it.
/// </summary>
public sealed class RetentionFixture : ClusterFixture
{
    public const string AdminKey = "test-admin-key-retention-0123";
    public const int RunsPerPass = 3;
    public const int SamplesPerSecond = 1_000;

    private GatewayFactory? _gateway;

    public string ExportDirectory { get; } = Path.Combine(Path.GetTempPath(), $"optruns-retention-{Guid.NewGuid():N}");

    protected override short SiloCount => 1;

    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Retention:ExportDirectory"] = ExportDirectory,
        ["Retention:Period"] = "00:00:00",
        ["Retention:PauseBetweenRuns"] = "00:00:00",
        ["Retention:RunsPerPass"] = RunsPerPass.ToString(),
        ["Retention:SamplesPerSecond"] = SamplesPerSecond.ToString(),
    };

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _gateway = new GatewayFactory(Client, new Dictionary<string, string?> { ["OPTRUNS_ADMIN_KEY"] = AdminKey });
    }

    public HttpClient WithKey(string key)
    {
        var client = _gateway!.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    public override async Task DisposeAsync()
    {
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }

        await base.DisposeAsync();
        if (Directory.Exists(ExportDirectory))
        {
            Directory.Delete(ExportDirectory, recursive: true);
        }
    }
}
