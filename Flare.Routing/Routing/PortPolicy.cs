using System.Collections.Frozen;
using System.Globalization;
using Flare.Routing.Optimization;

namespace Flare.Routing.Routing;

/// <summary>
/// PORT online (ROUTING.md §2.3): route to <c>argmax_i (α·d̂_i − γ_i·ĝ_i)</c> with the budget prices γ the plan learned
/// off the request path, while counting each deployment's spending against its budget per period.
/// </summary>
/// <remarks>
/// <para>Budgets: a decision reserves the candidate's estimated cost ĉ and is refused when that would take the
/// deployment's spending in the current period above its budget, so the reserved amounts never exceed a budget.
/// <see cref="Settle"/> then replaces the reservation with the request's real cost (or releases it when the deployment
/// did not serve), so the counter follows real spending; only the estimation error of requests already admitted can take
/// it past the budget, and then nothing more is admitted until the period ends. Periods are counted from the plan's
/// activation; the counters live in memory (a restart starts the current period at zero).</para>
/// <para>When the best deployment's budget is spent: <see cref="ExhaustedBudget.Fallback"/> (Flare's default) tries the
/// next best that still has budget; <see cref="ExhaustedBudget.Drop"/> (the paper's) refuses the request
/// (<see cref="RoutingDecision.BudgetExhausted"/>). Deployments the plan has no budget for (added after it was computed)
/// get no traffic: the plan never priced them.</para>
/// <para>PORT's exploration phase (the first ε of the stream routed at random to learn γ) happens off the request path:
/// the plan learns γ from a workload sample, so every live request is routed by the learned prices (Flare's choice).</para>
/// </remarks>
internal sealed class PortPolicy : IRoutingPolicy, IBudgetedPolicy
{
    public const string PolicyName = "port";

    private readonly FrozenDictionary<string, int> _slots;
    private readonly string[] _names;
    private readonly double[] _gamma;
    private readonly double[] _budgets;
    private readonly BudgetCounter[] _counters;
    private readonly RoutingPlan _scoring;
    private readonly ExhaustedBudget _onExhausted;
    private readonly DateTime _origin;
    private readonly long _periodTicks;

    /// <param name="gamma">γ_i by deployment name (missing: 0).</param>
    /// <param name="budgetsUsd">Each deployment's budget per period, USD; the deployments PORT may use.</param>
    /// <param name="qualityScale">α: quality in the cost unit (PORT: 1e-4 with costs in USD per request).</param>
    /// <param name="periodOrigin">Start of the first budget period (the plan's activation), UTC.</param>
    /// <param name="period">Length of a budget period.</param>
    /// <param name="ledger">Where hosts sharing the fleet pool their spending (null: this host alone).</param>
    /// <param name="ledgerScope">Names this plan's budgets in <paramref name="ledger"/>: the same on every host for one activation.</param>
    public PortPolicy(
        IReadOnlyDictionary<string, double> gamma, IReadOnlyDictionary<string, double> budgetsUsd, double qualityScale,
        ExhaustedBudget onExhausted, DateTime periodOrigin, TimeSpan period, ISharedLedger? ledger = null, string ledgerScope = "")
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(period, TimeSpan.Zero);
        _names = budgetsUsd.Keys.Order(StringComparer.Ordinal).ToArray();
        _slots = _names.Select((n, i) => (n, i)).ToFrozenDictionary(x => x.n, x => x.i, StringComparer.Ordinal);
        _gamma = _names.Select(n => gamma.GetValueOrDefault(n)).ToArray();
        _budgets = _names.Select(n => budgetsUsd[n]).ToArray();
        _counters = _names.Select(n => new BudgetCounter(ledger, $"port:{ledgerScope}:{n}")).ToArray();
        _scoring = new RoutingPlan(0, PolicyName, qualityScale, 0, 0, 1, 1, new Dictionary<string, double>(), new Dictionary<string, double>());
        _onExhausted = onExhausted;
        _origin = periodOrigin;
        _periodTicks = period.Ticks;
    }

    public string Name => PolicyName;

    public bool NeedsEstimates => true;

    public ExhaustedBudget OnExhausted => _onExhausted;

    public string Formula => string.Create(CultureInfo.InvariantCulture, $"{_scoring.QualityWeight:0.######}·q̂ − γ_i·ĉ (USD)");

    public CandidateScore? ScoreOf(in RoutingRequest request, in Candidate candidate)
    {
        var e = candidate.Estimate;
        var quality = _scoring.QualityWeight * e.Quality;
        if (!_slots.TryGetValue(candidate.Target.Name, out var slot))
        {
            return new CandidateScore(quality, quality, 0, 0, 0, Excluded: "the plan has no budget for it (added after the plan was computed)");
        }

        var price = _gamma[slot] * e.CostUsd;
        return new CandidateScore(quality - price, quality, 0, 0, price, Gamma: _gamma[slot]);
    }

    public int Choose(in RoutingRequest request, ReadOnlySpan<Candidate> candidates)
    {
        var period = PeriodOf(request.UtcNow);
        Span<int> slots = candidates.Length <= 64 ? stackalloc int[candidates.Length] : new int[candidates.Length];
        for (var i = 0; i < candidates.Length; i++)
        {
            slots[i] = !candidates[i].IsFull && _slots.TryGetValue(candidates[i].Target.Name, out var slot) ? slot : -1;
        }

        var refused = false;
        while (true)
        {
            var best = -1;
            var bestScore = double.NegativeInfinity;
            for (var i = 0; i < candidates.Length; i++)
            {
                if (slots[i] < 0)
                {
                    continue;
                }

                // PORT: α·d̂_ij − γ_i·ĝ_ij
                var score = ScoringCore.Score(candidates[i].Estimate, _scoring, _gamma[slots[i]], 0);
                if (score > bestScore)
                {
                    (best, bestScore) = (i, score);
                }
            }

            if (best < 0)
            {
                return refused ? RoutingDecision.BudgetExhausted : RoutingDecision.NoCandidate;
            }

            var s = slots[best];
            if (_counters[s].TryCharge(period, candidates[best].Estimate.CostUsd, _budgets[s]))
            {
                return best;
            }

            if (_onExhausted == ExhaustedBudget.Drop)
            {
                return RoutingDecision.BudgetExhausted;
            }

            refused = true;
            slots[best] = -1;
        }
    }

    public void Settle(in RoutingRequest request, in Candidate chosen, double? costUsd)
    {
        if (_slots.TryGetValue(chosen.Target.Name, out var slot))
        {
            _counters[slot].Adjust(PeriodOf(request.UtcNow), (costUsd ?? 0) - chosen.Estimate.CostUsd);
        }
    }

    public TimeSpan UntilNextPeriod(DateTime utcNow) =>
        new DateTime(_origin.Ticks + ((PeriodOf(utcNow) + 1) * _periodTicks), DateTimeKind.Utc) - utcNow;

    public IReadOnlyList<BudgetUsage> Usage(DateTime utcNow)
    {
        var period = PeriodOf(utcNow);
        return _names.Select((n, i) => new BudgetUsage(n, _budgets[i], _counters[i].Spent(period))).ToArray();
    }

    private long PeriodOf(DateTime utcNow) => utcNow <= _origin ? 0 : (utcNow.Ticks - _origin.Ticks) / _periodTicks;

    /// <summary>One deployment's spending in the current period: this host's, plus what the other hosts sharing the ledger
    /// have spent. A lock, not atomics: the period and the sum change together, and an uncontended lock costs tens of
    /// nanoseconds.</summary>
    private sealed class BudgetCounter(ISharedLedger? ledger, string key)
    {
        private readonly Lock _lock = new();
        private long _period = -1;
        private double _spent;

        public bool TryCharge(long period, double amount, double budget)
        {
            lock (_lock)
            {
                Roll(period);
                if (_spent + Others(period) + amount > budget)
                {
                    return false;
                }

                _spent += amount;
                ledger?.Add(key, period, amount);
                return true;
            }
        }

        /// <summary>Corrects a reservation of <paramref name="period"/>; a reservation of a period that has ended is dropped with it.</summary>
        public void Adjust(long period, double delta)
        {
            lock (_lock)
            {
                if (period == _period)
                {
                    var corrected = Math.Max(0, _spent + delta);
                    ledger?.Add(key, period, corrected - _spent);
                    _spent = corrected;
                }
            }
        }

        public double Spent(long period)
        {
            lock (_lock)
            {
                return (period == _period ? _spent : 0) + Others(period);
            }
        }

        private double Others(long period) => ledger?.Others(key, period) ?? 0;

        private void Roll(long period)
        {
            if (period > _period)
            {
                (_period, _spent) = (period, 0);
            }
        }
    }
}
