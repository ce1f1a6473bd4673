namespace Flare.Routing.Routing;

/// <summary>
/// Counters that must hold across several Flare hosts (PORT's per-deployment budgets, API keys' rate limits): each host
/// adds what it spends and reads what the others have spent, as of the ledger's last exchange with them. Reads and adds
/// are in memory and never wait; the exchange happens off the request path, so the others' figure is at most one exchange
/// interval old — the source of the bounded overshoot a shared limit allows (see the implementation's documentation).
/// </summary>
/// <remarks>
/// A counter is named by a key and a period (a budget period, a minute); periods of one key only ever move forward, and
/// a host keeps only a key's two newest periods: nothing reads further back.
/// </remarks>
public interface ISharedLedger
{
    /// <summary>What the other hosts have added to counter <paramref name="key"/> in <paramref name="period"/> (0 until known).</summary>
    double Others(string key, long period);

    /// <summary>
    /// What the other hosts have added to counter <paramref name="key"/> in <paramref name="period"/>; false until this
    /// host has exchanged the counter once, i.e. while the others' figure is still unknown here. Watching a counter this
    /// host adds nothing to takes an <see cref="Add"/> of 0.
    /// </summary>
    bool TryGetOthers(string key, long period, out double others);

    /// <summary>Adds this host's <paramref name="delta"/> to counter <paramref name="key"/> in <paramref name="period"/>.</summary>
    void Add(string key, long period, double delta);
}
