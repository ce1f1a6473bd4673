namespace Flare.Routing.Routing;

/// <summary>
/// Counters that must hold across several Flare hosts (PORT's per-deployment budgets): each host adds what it spends and
/// reads what the others have spent, as of the ledger's last exchange with them. Reads and adds are in memory and never
/// wait; the exchange happens off the request path, so the others' figure is at most one exchange interval old — the
/// source of the bounded overshoot a shared budget allows (see the implementation's documentation).
/// </summary>
public interface ISharedLedger
{
    /// <summary>What the other hosts have added to counter <paramref name="key"/> in <paramref name="period"/>.</summary>
    double Others(string key, long period);

    /// <summary>Adds this host's <paramref name="delta"/> to counter <paramref name="key"/> in <paramref name="period"/>.</summary>
    void Add(string key, long period, double delta);
}
