using Orleans.Configuration;

namespace OptimizationRuns.Silo;

/// <summary>
/// How fast silos notice a dead peer. Orleans' defaults (5 s probes, three missed, two votes) take tens of seconds
/// to declare a killed silo dead, and until then every call to one of its grains waits; ours declare it dead in a
/// few seconds, so its runs move to a survivor while workers are still retrying. Each value can be set under
/// <c>Cluster:</c> (<c>Cluster__ProbeTimeout</c>, <c>Cluster__MissedProbesLimit</c>, <c>Cluster__VotesForDeath</c>).
/// </summary>
public static class FailureDetection
{
    /// <summary>The first probe's timeout; Orleans adapts it per peer between half and three times this.</summary>
    public static readonly TimeSpan DefaultProbeTimeout = TimeSpan.FromSeconds(1);

    /// <summary>Missed probes before a silo suspects a peer.</summary>
    public const int DefaultMissedProbesLimit = 2;

    /// <summary>
    /// Suspicions needed to declare a peer dead. One, because with two silos the only other voter is the dead one;
    /// Orleans' own probing (direct, then indirect through a third silo when there is one) keeps a single slow reply
    /// from being a vote.
    /// </summary>
    public const int DefaultVotesForDeath = 1;

    /// <summary>Applies the settings to the silo's <see cref="ClusterMembershipOptions"/>.</summary>
    public static ISiloBuilder AddFailureDetection(this ISiloBuilder silo, IConfiguration configuration)
    {
        var probeTimeout = configuration.GetValue("Cluster:ProbeTimeout", DefaultProbeTimeout);
        silo.Configure<ClusterMembershipOptions>(o =>
        {
            o.ProbeTimeout = probeTimeout;
            o.MinProbeTimeout = probeTimeout / 2;
            // A busy machine answers late, not never: room for that before a probe counts as missed.
            o.MaxProbeTimeout = probeTimeout * 3;
            o.NumMissedProbesLimit = configuration.GetValue("Cluster:MissedProbesLimit", DefaultMissedProbesLimit);
            o.NumVotesForDeathDeclaration = configuration.GetValue("Cluster:VotesForDeath", DefaultVotesForDeath);
            // Refreshes the table's view often enough that a silo which missed the gossip still learns of a death.
            o.TableRefreshTimeout = TimeSpan.FromSeconds(10);
        });
        return silo;
    }
}
