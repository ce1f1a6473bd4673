namespace Flare.Web.Gateway;

/// <summary>What a host learned about a deployment's health that the other hosts sharing the fleet act on.</summary>
public enum HealthNews
{
    /// <summary>Passive health took the deployment out on the host that says so; it is still out there.</summary>
    Ejected,

    /// <summary>The deployment answered the active probe: every host takes it back in.</summary>
    Restored,
}

/// <param name="DeploymentId">The deployment.</param>
/// <param name="News">What happened.</param>
/// <param name="ProbeAfter">With <see cref="HealthNews.Ejected"/>: the earliest time the host that took it out would probe it.</param>
/// <param name="Relayed">Set on the receiving side: the news came from another host.</param>
public sealed record HealthChange(int DeploymentId, HealthNews News, DateTimeOffset ProbeAfter, bool Relayed = false);

/// <summary>
/// Deployment health news between the hosts sharing a fleet (carried by PostgreSQL's change relay; on a single host,
/// heard by nobody else): hosts that do not probe announce what they took out, and the probing host announces what came
/// back (see <see cref="HealthProber"/>).
/// </summary>
public sealed class DeploymentHealthSignal
{
    public event Action<HealthChange>? Changed;

    public void Raise(HealthChange change) => Changed?.Invoke(change);
}
