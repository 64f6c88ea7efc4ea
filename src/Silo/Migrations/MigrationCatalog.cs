using System.Reflection;
using System.Text.RegularExpressions;

namespace OptimizationRuns.Silo.Migrations;

/// <summary>The migrations embedded in the silo from <c>migrations/NNNN_name.up.sql</c> and <c>.down.sql</c>.</summary>
public static partial class MigrationCatalog
{
    [GeneratedRegex(@"^migrations/(?<version>\d{4})_(?<name>[a-z0-9_]+)\.(?<direction>up|down)\.sql$")]
    private static partial Regex ResourceName();

    /// <summary>Every embedded migration, in version order; fails loudly if one lacks its down script.</summary>
    public static IReadOnlyList<Migration> Load()
    {
        var assembly = typeof(MigrationCatalog).Assembly;
        var scripts = new Dictionary<(int Version, string Name), Dictionary<string, string>>();
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            var match = ResourceName().Match(resource);
            if (!match.Success)
            {
                continue;
            }

            var key = (int.Parse(match.Groups["version"].Value), match.Groups["name"].Value);
            if (!scripts.TryGetValue(key, out var pair))
            {
                scripts[key] = pair = [];
            }

            pair[match.Groups["direction"].Value] = Read(assembly, resource);
        }

        var migrations = new List<Migration>();
        foreach (var ((version, name), pair) in scripts.OrderBy(s => s.Key.Version))
        {
            if (!pair.TryGetValue("up", out var up) || !pair.TryGetValue("down", out var down))
            {
                throw new InvalidOperationException($"Migration {version:D4}_{name} needs both an up and a down script.");
            }

            if (migrations.Count > 0 && migrations[^1].Version == version)
            {
                throw new InvalidOperationException($"Two migrations share version {version:D4}.");
            }

            migrations.Add(new Migration(version, name, up, down));
        }

        return migrations;
    }

    private static string Read(Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
