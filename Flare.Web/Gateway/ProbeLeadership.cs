namespace Flare.Web.Gateway;

/// <summary>
/// Whether this host is the one that sends active health probes. Hosts sharing a fleet probe from one host at a time, so a
/// deployment that is down gets one probe per interval, not one per host.
/// </summary>
public interface IProbeLeadership
{
    /// <summary>True while this host sends the probes: for every host, or, cut off from the others, for itself.</summary>
    bool IsLeader { get; }
}

/// <summary>A host alone (SQLite) always probes.</summary>
internal sealed class SingleHostProbeLeadership : IProbeLeadership
{
    public bool IsLeader => true;
}
