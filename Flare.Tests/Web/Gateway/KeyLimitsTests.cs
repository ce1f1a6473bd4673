using Flare.Routing.Routing;
using Flare.Web.Gateway;

namespace Flare.Tests.Web.Gateway;

/// <summary>
/// A key's rate limit held by several hosts through a shared ledger, with the exchange between them stepped by hand: each
/// host's bucket loses what the others took once an exchange brings it, and a host that starts late counts the others'
/// recent use against its bucket without going below empty for it.
/// </summary>
public sealed class KeyLimitsTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 12, 0, 10, TimeSpan.Zero);

    [Fact]
    public void TryAdmit_BucketEmptiedOnAnotherHost_RefusedHereAfterTheExchange()
    {
        var table = new Table();
        var (ledgerA, ledgerB) = (new Ledger(table), new Ledger(table));
        var a = new KeyLimits(1, requestsPerMinute: 60, tokensPerMinute: null, ledgerA);
        var b = new KeyLimits(1, requestsPerMinute: 60, tokensPerMinute: null, ledgerB);
        Assert.True(a.TryAdmit(Start, out _));
        Assert.True(b.TryAdmit(Start, out _));
        ExchangeAll(ledgerA, ledgerB);

        // 60 − 2 left between them.
        Assert.Equal(58, AdmitAll(a, Start));
        ledgerA.Exchange();
        Assert.True(b.TryAdmit(Start, out _)); // B has not heard yet: one over, the documented overshoot
        ExchangeAll(ledgerB, ledgerA);

        Assert.False(b.TryAdmit(Start, out var retryAfter));
        Assert.True(retryAfter > TimeSpan.Zero);
        Assert.False(a.TryAdmit(Start, out _));
        // The one bucket refills once, not once per host: two seconds on, the overshoot is paid back and one request is
        // left between them.
        var later = Start.AddSeconds(1);
        Assert.Equal(0, AdmitAll(a, later) + AdmitAll(b, later));
        var twoLater = Start.AddSeconds(2);
        var admitted = AdmitAll(a, twoLater);
        ExchangeAll(ledgerA, ledgerB);
        Assert.Equal(1, admitted + AdmitAll(b, twoLater));
    }

    [Fact]
    public void TryAdmit_HostStartsServingAKeyOthersUsed_CountsTheirUseOnceItKnowsIt()
    {
        var table = new Table();
        var (ledgerA, ledgerB) = (new Ledger(table), new Ledger(table));
        var a = new KeyLimits(1, requestsPerMinute: 60, tokensPerMinute: null, ledgerA);
        Assert.Equal(30, Admit(a, Start, 30));
        ledgerA.Exchange();

        var b = new KeyLimits(1, requestsPerMinute: 60, tokensPerMinute: null, ledgerB);
        Assert.True(b.TryAdmit(Start, out _)); // on its own bucket until its first exchange
        ledgerB.Exchange();

        // 60 − 1 (its own) − 30 (A's): 29 more, between the two hosts.
        Assert.Equal(29, AdmitAll(b, Start));
        ledgerB.Exchange();
        ledgerA.Exchange();
        Assert.Equal(0, AdmitAll(a, Start));
    }

    [Fact]
    public void TryAdmit_OthersUsedMoreThanTheBucketHolds_LateHostStartsEmptyNotInDebt()
    {
        var table = new Table();
        var (ledgerA, ledgerB) = (new Ledger(table), new Ledger(table));
        var a = new KeyLimits(1, requestsPerMinute: 60, tokensPerMinute: null, ledgerA);
        // More than the bucket holds, in the last minute and a bit: 60 in the previous minute, 30 in this one.
        Assert.Equal(60, Admit(a, Start.AddSeconds(-70), 60));
        Assert.Equal(30, Admit(a, Start.AddSeconds(-5), 30));
        ledgerA.Exchange();

        var b = new KeyLimits(1, requestsPerMinute: 60, tokensPerMinute: null, ledgerB);
        Assert.True(b.TryAdmit(Start, out _));
        ledgerB.Exchange();

        Assert.False(b.TryAdmit(Start, out _));
        // Empty, not 90 in debt: one second refills one request.
        Assert.True(b.TryAdmit(Start.AddSeconds(1), out _));
    }

    [Fact]
    public void Charge_TokensUsedOnAnotherHost_TakenFromThisHostsTokenBucket()
    {
        var table = new Table();
        var (ledgerA, ledgerB) = (new Ledger(table), new Ledger(table));
        var a = new KeyLimits(1, requestsPerMinute: null, tokensPerMinute: 1000, ledgerA);
        var b = new KeyLimits(1, requestsPerMinute: null, tokensPerMinute: 1000, ledgerB);
        Assert.True(b.TryAdmit(Start, out _));
        ledgerB.Exchange();
        Assert.True(b.TryAdmit(Start, out _)); // B has watched the key since before A's use

        Assert.True(a.TryAdmit(Start, out _));
        a.Charge(Start, 1500);
        ledgerA.Exchange();
        ledgerB.Exchange();

        Assert.False(b.TryAdmit(Start, out var retryAfter));
        Assert.True(retryAfter >= TimeSpan.FromSeconds(30), $"retry after {retryAfter}: the bucket is 500 tokens in debt at 1000 a minute");
    }

    /// <summary>Two rounds of exchanges: every host hears what every other added.</summary>
    private static void ExchangeAll(params Ledger[] ledgers)
    {
        foreach (var ledger in ledgers.Concat(ledgers))
        {
            ledger.Exchange();
        }
    }

    private static int Admit(KeyLimits limits, DateTimeOffset at, int count)
    {
        var admitted = 0;
        for (var i = 0; i < count; i++)
        {
            admitted += limits.TryAdmit(at, out _) ? 1 : 0;
        }

        return admitted;
    }

    private static int AdmitAll(KeyLimits limits, DateTimeOffset at)
    {
        var admitted = 0;
        while (limits.TryAdmit(at, out _))
        {
            admitted++;
        }

        return admitted;
    }

    /// <summary>The shared table: a total per counter.</summary>
    private sealed class Table
    {
        public Dictionary<(string, long), double> Totals { get; } = [];
    }

    /// <summary>One host's ledger: adds wait for <see cref="Exchange"/>, which adds them to the table and reads the totals.</summary>
    private sealed class Ledger(Table table) : ISharedLedger
    {
        private readonly Dictionary<(string, long), (double Pending, double Mine, double Total, bool Known)> _counters = [];

        public double Others(string key, long period) => TryGetOthers(key, period, out var others) ? others : 0;

        public bool TryGetOthers(string key, long period, out double others)
        {
            others = 0;
            if (!_counters.TryGetValue((key, period), out var c) || !c.Known)
            {
                return false;
            }

            others = c.Total - c.Mine;
            return true;
        }

        public void Add(string key, long period, double delta)
        {
            var c = _counters.GetValueOrDefault((key, period));
            _counters[(key, period)] = c with { Pending = c.Pending + delta };
        }

        public void Exchange()
        {
            foreach (var (id, c) in _counters.ToArray())
            {
                var total = table.Totals[id] = table.Totals.GetValueOrDefault(id) + c.Pending;
                _counters[id] = (0, c.Mine + c.Pending, total, true);
            }
        }
    }
}
