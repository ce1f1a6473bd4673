using System.Buffers;
using System.Collections.Concurrent;
using System.Numerics;
using System.Globalization;
using Flare.Routing.Profiles;
using Flare.Routing.Routing;

namespace Flare.Routing.Optimization;

/// <summary>Which summary of the latency distribution an SLO bounds.</summary>
public enum LatencyStatistic
{
    /// <summary>The mean over requests (RouterWise's constraint).</summary>
    Mean,

    /// <summary>The 95th percentile (nearest rank).</summary>
    P95,
}

/// <summary>What the explorer's best point optimises among the points that meet every constraint.</summary>
public enum ExplorerObjective
{
    /// <summary>The highest mean quality; among equals, the cheapest.</summary>
    MaxQuality,

    /// <summary>The lowest cost; among equals, the best quality.</summary>
    MinCost,
}

/// <summary>Where an explorer point comes from.</summary>
public enum ExplorerFamily
{
    /// <summary>Every request to one deployment (the single models, reference points).</summary>
    Fixed,

    /// <summary>FLARE's weighted score with cost and latency weights (ROUTING.md §2.1), ℓ̂ and ĉ at the load the split puts on each deployment.</summary>
    Flare,

    /// <summary>RouterWise's capacity prices α for a latency multiplier β (ROUTING.md §2.2).</summary>
    RouterWise,

    /// <summary>Each prompt to the deployment whose model really scored best on it in the history (a bound, not a policy).</summary>
    Oracle,

    /// <summary>The plan live now.</summary>
    Live,
}

/// <summary>The explorer's sliders: the load to plan for and the constraints an operating point must meet.</summary>
/// <param name="ArrivalRatePerSecond">λ: total requests per second the fleet receives.</param>
/// <param name="Metric">The latency the SLO bounds and the chart shows: TTFT or e2e.</param>
/// <param name="Statistic">Mean or p95 of that latency over requests.</param>
/// <param name="SloMs">The latency SLO, ms; null for none.</param>
/// <param name="BudgetPer1kUsd">The cost budget, USD per 1,000 requests; null for none.</param>
/// <param name="MinQuality">The quality floor (mean q̂); null for none.</param>
/// <param name="Objective">What the best feasible point optimises.</param>
public sealed record ExplorerSettings(
    double ArrivalRatePerSecond,
    LatencyMetric Metric = LatencyMetric.E2e,
    LatencyStatistic Statistic = LatencyStatistic.Mean,
    double? SloMs = null,
    double? BudgetPer1kUsd = null,
    double? MinQuality = null,
    ExplorerObjective Objective = ExplorerObjective.MaxQuality)
{
    /// <summary>The SLO's latency in words, e.g. "p95 e2e" or "mean TTFT".</summary>
    public string LatencyName => $"{(Statistic == LatencyStatistic.Mean ? "mean" : "p95")} {(Metric == LatencyMetric.Ttft ? "TTFT" : "e2e")}";
}

/// <summary>
/// One operating point as the explorer predicts it on its workload sample at the settings' arrival rate (ROUTING.md §5):
/// mean quality, mean and p95 latency of the settings' metric, cost per 1,000 requests and each deployment's traffic share.
/// </summary>
/// <param name="Plan">The routing rule: FLARE's weights and scales, or RouterWise's prices α (empty for fixed and the oracle).</param>
/// <param name="Beta">RouterWise's latency multiplier β in quality per ms; null for the other families.</param>
/// <param name="FixedDeployment">The one deployment of a <see cref="ExplorerFamily.Fixed"/> point.</param>
/// <param name="Overloaded">Deployments the split overloads (past their capacity or maximum concurrency): the latency is
/// then infinite and the point infeasible.</param>
/// <param name="BeyondProfile">Deployments loaded past the concurrency their profile measured: their curves extrapolate.</param>
public sealed record ExplorerPoint(
    ExplorerFamily Family,
    string Label,
    double MeanQuality,
    double MeanLatencyMs,
    double P95LatencyMs,
    double CostPer1kUsd,
    IReadOnlyDictionary<string, double> TrafficShare,
    RoutingPlan Plan,
    double? Beta,
    string? FixedDeployment,
    IReadOnlyList<string> Overloaded,
    IReadOnlyList<string> BeyondProfile)
{
    /// <summary>True when the split overloads a deployment.</summary>
    public bool IsOverloaded => Overloaded.Count > 0;

    /// <summary>The mean or p95 latency, ms.</summary>
    public double Latency(LatencyStatistic statistic) => statistic == LatencyStatistic.Mean ? MeanLatencyMs : P95LatencyMs;

    /// <summary>The point as the optimizer core's <see cref="OperatingPointMetrics"/>.</summary>
    public OperatingPointMetrics Metrics => new(Label, MeanQuality, MeanLatencyMs, P95LatencyMs, CostPer1kUsd, TrafficShare);
}

/// <summary>What the explorer shows for one position of the sliders.</summary>
/// <param name="Points">Every operating point evaluated: the FLARE and RouterWise grids, the refinements toward the
/// constraints and the single deployments.</param>
/// <param name="Front">The non-dominated points among those that overload nothing (<see cref="ParetoFront"/>).</param>
/// <param name="Singles">Every request to one deployment, per deployment: the reference points.</param>
/// <param name="Oracle">The oracle on the prompts the history scored on every deployment; null when too few are.</param>
/// <param name="Live">The live plan's point; null when no plan is live (or it is unknown).</param>
/// <param name="Best">The best point meeting every constraint; null when none does.</param>
/// <param name="Infeasibility">Why no point is feasible; null when one is.</param>
/// <param name="FleetCapacityPerSecond">The requests/s the fleet can take at the sample's request lengths.</param>
public sealed record ExplorerResult(
    ExplorerSettings Settings,
    IReadOnlyList<ExplorerPoint> Points,
    IReadOnlyList<ExplorerPoint> Front,
    IReadOnlyList<ExplorerPoint> Singles,
    ExplorerPoint? Oracle,
    ExplorerPoint? Live,
    ExplorerPoint? Best,
    ExplorerInfeasibility? Infeasibility,
    double FleetCapacityPerSecond);

/// <summary>How densely <see cref="ExplorerSolver"/> searches. The defaults keep a 5,000-query sample under 300 ms per
/// slider move on two cores (docs/benchmarks.md).</summary>
public sealed record ExplorerSolverOptions
{
    /// <summary>FLARE cost weights w_c: 0 and log-spaced values from 0.01 to 10 (default 11 in all).</summary>
    public int CostWeightSteps { get; init; } = 11;

    /// <summary>FLARE latency weights w_l, spaced like the cost weights (default 11).</summary>
    public int LatencyWeightSteps { get; init; } = 11;

    /// <summary>RouterWise multipliers β: 0 and log-spaced values from 0.01/L to 100/L, L the sample's mean latency (default 16).</summary>
    public int BetaSteps { get; init; } = 16;

    /// <summary>Damped fixed-point iterations that find α for one β (default 60; RouterWise's own solver uses 300).</summary>
    public int PriceIterations { get; init; } = 60;

    /// <summary>Queries (an even stride through the sample) the prices α and FLARE's loads are found on; the point is then
    /// evaluated on the whole sample (default 600).</summary>
    public int PriceSampleSize { get; init; } = 600;

    /// <summary>Rounds of routing with ℓ̂ and ĉ at the loads the previous round's split gives (default 10): FLARE's score
    /// reads latency at the current load, so its split and the loads must agree.</summary>
    public int LoadIterations { get; init; } = 10;

    /// <summary>Bisection steps between a feasible grid point and a better infeasible neighbour (default 10).</summary>
    public int RefineSteps { get; init; } = 10;

    /// <summary>The oracle is shown when at least this share of the sample's prompts has a real score on every deployment
    /// (default 0.5).</summary>
    public double OracleMinLabelledShare { get; init; } = 0.5;

    /// <summary>The defaults above.</summary>
    public static ExplorerSolverOptions Default { get; } = new();
}

/// <summary>
/// The Pareto explorer's solver (ROUTING.md §5): evaluates operating points on an <see cref="ExplorerSample"/> at an arrival
/// rate, keeps the Pareto front, and picks the best point under the what-if constraints — or says which constraint binds
/// and by how much.
/// </summary>
/// <remarks>
/// <para>Candidates at one (arrival rate, metric) are computed once and cached: a FLARE grid over (w_c, w_l), each split
/// found by routing with ℓ̂ and ĉ at the loads it causes until they agree; and RouterWise's family over β, whose prices
/// <c>α_i = β·∂/∂w_i [w_i·ℓ_i(λ·w_i)]</c> are found by the same damped fixed-point iteration as
/// <see cref="RouterWise"/>, on a subsample. Every point is then measured on the whole sample with Little's law per
/// deployment (<see cref="ExplorerSample"/>).</para>
/// <para>The constraints only filter, so moving the SLO, budget or quality sliders costs a filter plus a short refinement:
/// bisection from the best feasible grid point toward each better, infeasible neighbour, which lands on the constraint
/// (RouterWise's bisection on β to meet τ is this refinement on its family).</para>
/// <para>Thread-safe: the cache is shared, and each solve allocates its own buffers.</para>
/// </remarks>
public sealed class ExplorerSolver
{
    private const int MaxCachedGrids = 32;

    private readonly ConcurrentDictionary<(double Rate, LatencyMetric Metric), Lazy<Grid>> _grids = new();
    private readonly double[] _costWeights;
    private readonly double[] _latencyWeights;
    private readonly double[] _betas;
    private readonly int[] _priceQueries;
    private readonly bool _perTokenOnly;

    public ExplorerSolver(ExplorerSample sample, ExplorerSolverOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(sample);
        Sample = sample;
        Options = options ?? ExplorerSolverOptions.Default;
        _costWeights = WeightSteps(Options.CostWeightSteps, -2, 1);
        _latencyWeights = WeightSteps(Options.LatencyWeightSteps, -2, 1);
        _betas = WeightSteps(Options.BetaSteps, -2, 2);
        var size = Math.Clamp(Options.PriceSampleSize, 1, sample.Queries);
        _priceQueries = Enumerable.Range(0, size).Select(k => (int)((long)k * sample.Queries / size)).ToArray();
        _perTokenOnly = sample.Deployments.All(d => d.GpuUsdPerSecond == 0);
    }

    public ExplorerSample Sample { get; }

    public ExplorerSolverOptions Options { get; }

    /// <summary>Solves for one position of the sliders; <paramref name="live"/> (the plan live now) is evaluated beside.</summary>
    public ExplorerResult Solve(ExplorerSettings settings, RoutingPlan? live = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var rate = Math.Max(0, settings.ArrivalRatePerSecond);
        var grid = _grids.GetOrAdd((rate, settings.Metric), key => new Lazy<Grid>(() => BuildGrid(key.Rate, key.Metric)));
        if (_grids.Count > MaxCachedGrids)
        {
            foreach (var key in _grids.Keys.Where(k => k != (rate, settings.Metric)).Take(_grids.Count - MaxCachedGrids))
            {
                _grids.TryRemove(key, out _);
            }
        }

        var g = grid.Value;
        var points = new List<ExplorerPoint>(g.Singles);
        points.AddRange(g.Flare.Cast<ExplorerPoint>());
        points.AddRange(g.RouterWise);
        points.AddRange(Refine(g, settings));

        var best = points.Where(p => ExplorerConstraints.IsFeasible(p, settings))
            .Aggregate((ExplorerPoint?)null, (acc, p) => acc is null || ExplorerConstraints.Better(p, acc, settings.Objective) ? p : acc);
        var infeasibility = best is null ? ExplorerConstraints.Explain(points, settings, Sample.FleetCapacityPerSecond) : null;

        var usable = points.Where(p => !p.IsOverloaded).ToList();
        var byMetrics = new Dictionary<OperatingPointMetrics, ExplorerPoint>(ReferenceEqualityComparer.Instance);
        var metrics = usable.Select(p =>
        {
            var m = p.Metrics;
            byMetrics[m] = p;
            return m;
        }).ToList();
        var front = ParetoFront.Of(metrics).Select(m => byMetrics[m]).ToList();
        var livePoint = live is null ? null : Evaluate(live, rate, settings.Metric, ExplorerFamily.Live, "live plan");
        return new ExplorerResult(settings, points, front, g.Singles, g.Oracle, livePoint, best, infeasibility, Sample.FleetCapacityPerSecond);
    }

    /// <summary>
    /// What <paramref name="plan"/> gives on the sample at <paramref name="rate"/> requests/s: each query routed by the
    /// scoring core's rule <c>w_q·q̂ − (w_c + γ_i)·ĉ/C − w_l·ℓ̂/L − α_i</c>, with ĉ and ℓ̂ at the loads the split causes.
    /// </summary>
    public ExplorerPoint Evaluate(RoutingPlan plan, double rate, LatencyMetric metric, ExplorerFamily family = ExplorerFamily.Live, string? label = null)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var m = Sample.Deployments.Count;
        var alpha = new double[m];
        var costWeight = new double[m];
        for (var i = 0; i < m; i++)
        {
            var name = Sample.Deployments[i].Name;
            alpha[i] = plan.Alpha.GetValueOrDefault(name);
            costWeight[i] = (plan.CostWeight + plan.Gamma.GetValueOrDefault(name)) / plan.CostScaleUsd;
        }

        var (picks, _) = Route(plan.QualityWeight, costWeight, plan.LatencyWeight / plan.LatencyScaleMs, alpha, rate, metric);
        return Measure(picks, rate, metric, Sample.Quality, family, label ?? plan.Policy, plan, null, null);
    }

    // ------------------------------------------------------------------ the candidate grid

    private sealed record Grid(
        IReadOnlyList<ExplorerPoint> Singles,
        ExplorerPoint[,] Flare,
        double[,][] FlareLoads,
        IReadOnlyList<ExplorerPoint> RouterWise,
        ExplorerPoint? Oracle,
        double Rate,
        LatencyMetric Metric);

    private Grid BuildGrid(double rate, LatencyMetric metric)
    {
        var m = Sample.Deployments.Count;
        var singles = new ExplorerPoint[m];
        Parallel.For(0, m, i =>
        {
            var picks = new int[Sample.Queries];
            Array.Fill(picks, i);
            var name = Sample.Deployments[i].Name;
            singles[i] = Measure(picks, rate, metric, Sample.Quality, ExplorerFamily.Fixed, name, Plan("fixed", 0, 0, metric), null, name);
        });

        // One row of latency weights per task: each point's load search starts from its neighbour's loads.
        var flare = new ExplorerPoint[_costWeights.Length, _latencyWeights.Length];
        var loads = new double[_costWeights.Length, _latencyWeights.Length][];
        Parallel.For(0, _costWeights.Length, ic =>
        {
            double[]? previous = null;
            (ExplorerPoint, int[])? neighbour = null;
            for (var il = 0; il < _latencyWeights.Length; il++)
            {
                var (point, concurrency, picks) = FlarePoint(_costWeights[ic], _latencyWeights[il], rate, metric, previous, neighbour);
                (flare[ic, il], loads[ic, il], previous, neighbour) = (point, concurrency, concurrency, (point, picks));
            }
        });

        var routerWise = new ExplorerPoint[_betas.Length];
        Parallel.For(0, _betas.Length, b => routerWise[b] = RouterWisePoint(_betas[b], rate, metric));

        return new Grid(singles, flare, loads, routerWise, OraclePoint(rate, metric), rate, metric);
    }

    /// <param name="start">The loads of a neighbouring point, where the search for this one's starts.</param>
    /// <param name="neighbour">That point and its split: when this point routes every query the same way, its metrics are
    /// the neighbour's (a split's metrics depend on the split alone), so they are not measured again.</param>
    private (ExplorerPoint Point, double[] Concurrency, int[] Picks) FlarePoint(
        double costWeight, double latencyWeight, double rate, LatencyMetric metric, double[]? start, (ExplorerPoint Point, int[] Picks)? neighbour = null)
    {
        var m = Sample.Deployments.Count;
        var perDeployment = new double[m];
        Array.Fill(perDeployment, costWeight / Sample.CostScaleUsd);
        var (picks, concurrency) = Route(1, perDeployment, latencyWeight / Sample.LatencyScaleMs(metric), new double[m], rate, metric, start);
        var label = string.Create(CultureInfo.InvariantCulture, $"flare w_c={costWeight:0.###} w_l={latencyWeight:0.###}");
        var plan = Plan(FlarePolicyName, costWeight, latencyWeight, metric);
        var point = neighbour is { } n && n.Picks.AsSpan().SequenceEqual(picks)
            ? n.Point with { Label = label, Plan = plan }
            : Measure(picks, rate, metric, Sample.Quality, ExplorerFamily.Flare, label, plan, null, null);
        return (point, concurrency, picks);
    }

    /// <param name="beta">Normalised β (β·L, L the sample's mean latency): unitless.</param>
    private ExplorerPoint RouterWisePoint(double beta, double rate, LatencyMetric metric)
    {
        var m = Sample.Deployments.Count;
        var perMs = beta / Sample.LatencyScaleMs(metric);
        var alpha = Prices(perMs, rate, metric);
        var (picks, _) = Route(1, new double[m], 0, alpha, rate, metric);
        var prices = new Dictionary<string, double>(m);
        for (var i = 0; i < m; i++)
        {
            prices[Sample.Deployments[i].Name] = alpha[i];
        }

        var plan = Plan(RouterWisePolicyName, 0, 0, metric) with { Alpha = prices };
        var label = string.Create(CultureInfo.InvariantCulture, $"routerwise β={beta:0.###}");
        return Measure(picks, rate, metric, Sample.Quality, ExplorerFamily.RouterWise, label, plan, perMs, null);
    }

    private ExplorerPoint? OraclePoint(double rate, LatencyMetric metric)
    {
        if (Sample.FullyLabelledQueries == 0 || Sample.FullyLabelledQueries < Options.OracleMinLabelledShare * Sample.Queries)
        {
            return null;
        }

        var m = Sample.Deployments.Count;
        var picks = new int[Sample.Queries];
        for (var j = 0; j < Sample.Queries; j++)
        {
            picks[j] = -1;
            var best = double.NegativeInfinity;
            var bestCost = double.PositiveInfinity;
            for (var i = 0; i < m; i++)
            {
                var k = j * m + i;
                var score = Sample.ActualQuality[k];
                if (double.IsNaN(score))
                {
                    picks[j] = -1;
                    break;
                }

                var cost = Sample.CostUsd(k, 1);
                if (score > best || (score == best && cost < bestCost))
                {
                    (picks[j], best, bestCost) = (i, score, cost);
                }
            }
        }

        return Measure(picks, rate, metric, Sample.ActualQuality, ExplorerFamily.Oracle, "oracle", Plan("oracle", 0, 0, metric), null, null);
    }

    // ------------------------------------------------------------------ refinement toward the constraints

    private List<ExplorerPoint> Refine(Grid grid, ExplorerSettings settings)
    {
        var paths = new List<Func<double, ExplorerPoint>>();
        var (rate, metric) = (grid.Rate, grid.Metric);

        // FLARE: from the best feasible grid point toward each better, infeasible neighbour in (w_c, w_l).
        (int C, int L)? flareBest = null;
        for (var ic = 0; ic < _costWeights.Length; ic++)
        {
            for (var il = 0; il < _latencyWeights.Length; il++)
            {
                var p = grid.Flare[ic, il];
                if (ExplorerConstraints.IsFeasible(p, settings)
                    && (flareBest is not { } fb || ExplorerConstraints.Better(p, grid.Flare[fb.C, fb.L], settings.Objective)))
                {
                    flareBest = (ic, il);
                }
            }
        }

        if (flareBest is { } f)
        {
            var from = grid.Flare[f.C, f.L];
            foreach (var (dc, dl) in new[] { (-1, 0), (1, 0), (0, -1), (0, 1) })
            {
                var (nc, nl) = (f.C + dc, f.L + dl);
                if (nc < 0 || nl < 0 || nc >= _costWeights.Length || nl >= _latencyWeights.Length)
                {
                    continue;
                }

                var to = grid.Flare[nc, nl];
                if (!ExplorerConstraints.IsFeasible(to, settings) && ExplorerConstraints.Better(to, from, settings.Objective))
                {
                    var (c0, c1, l0, l1) = (_costWeights[f.C], _costWeights[nc], _latencyWeights[f.L], _latencyWeights[nl]);
                    var loads = grid.FlareLoads[f.C, f.L];
                    paths.Add(t => FlarePoint(Between(c0, c1, t), Between(l0, l1, t), rate, metric, loads).Point);
                }
            }
        }

        // RouterWise: bisection on β between the best feasible β and a better infeasible neighbour (RouterWise's own
        // bisection to meet τ, on the explorer's constraints).
        var rw = grid.RouterWise;
        int? rwBest = null;
        for (var b = 0; b < rw.Count; b++)
        {
            if (ExplorerConstraints.IsFeasible(rw[b], settings) && (rwBest is not { } rb || ExplorerConstraints.Better(rw[b], rw[rb], settings.Objective)))
            {
                rwBest = b;
            }
        }

        if (rwBest is { } r)
        {
            foreach (var n in new[] { r - 1, r + 1 })
            {
                if (n >= 0 && n < rw.Count && !ExplorerConstraints.IsFeasible(rw[n], settings) && ExplorerConstraints.Better(rw[n], rw[r], settings.Objective))
                {
                    var (b0, b1) = (_betas[r], _betas[n]);
                    paths.Add(t => RouterWisePoint(Between(b0, b1, t), rate, metric));
                }
            }
        }

        var found = new ExplorerPoint?[paths.Count];
        Parallel.For(0, paths.Count, k => found[k] = Bisect(paths[k], settings));
        return found.OfType<ExplorerPoint>().ToList();
    }

    /// <summary>The feasible point closest to the infeasible end of a path (t = 0 feasible, t = 1 not).</summary>
    private ExplorerPoint? Bisect(Func<double, ExplorerPoint> at, ExplorerSettings settings)
    {
        var (lo, hi) = (0.0, 1.0);
        ExplorerPoint? best = null;
        for (var step = 0; step < Options.RefineSteps; step++)
        {
            var mid = (lo + hi) / 2;
            var point = at(mid);
            if (ExplorerConstraints.IsFeasible(point, settings))
            {
                lo = mid;
                if (best is null || ExplorerConstraints.Better(point, best, settings.Objective))
                {
                    best = point;
                }
            }
            else
            {
                hi = mid;
            }
        }

        return best;
    }

    // Geometric between two positive weights (the grids are log-spaced), linear when one is 0.
    private static double Between(double a, double b, double t) =>
        a > 0 && b > 0 ? Math.Exp(Math.Log(a) + t * (Math.Log(b) - Math.Log(a))) : a + t * (b - a);

    // ------------------------------------------------------------------ routing and measuring

    /// <summary>
    /// Routes every query by <c>argmax_i w_q·q̂ − w_c,i·ĉ(c_i) − w_l·ℓ̂(c_i) − α_i</c> (ties to the lower index), where c_i is
    /// deployment i's concurrency. When the score reads the load, the loads the split causes are found first on the price
    /// subsample (damped rounds of routing and Little's law, from <paramref name="start"/>), then the whole sample is routed
    /// once at those loads.
    /// </summary>
    /// <param name="costWeight">(w_c + γ_i)/C per deployment.</param>
    /// <param name="latencyWeight">w_l/L.</param>
    /// <param name="start">Concurrencies to start from (a neighbouring grid point's); null for one request in flight each.</param>
    private (int[] Picks, double[] Concurrency) Route(
        double qualityWeight, double[] costWeight, double latencyWeight, double[] alpha, double rate, LatencyMetric metric, double[]? start = null)
    {
        var s = Sample;
        var m = s.Deployments.Count;
        var readsLoad = latencyWeight > 0;
        for (var i = 0; i < m && !readsLoad; i++)
        {
            readsLoad = costWeight[i] > 0 && s.Deployments[i].GpuUsdPerSecond > 0;
        }

        var concurrency = new double[m];
        if (start is not null && readsLoad)
        {
            Array.Copy(start, concurrency, m);
        }
        else
        {
            Array.Fill(concurrency, 1.0);
        }

        if (readsLoad && rate > 0)
        {
            var picks = new int[_priceQueries.Length];
            var counts = new int[m];
            var sumA = new double[m];
            var sumB = new double[m];
            for (var round = 0; round < Options.LoadIterations; round++)
            {
                RouteInto(_priceQueries, picks, qualityWeight, costWeight, latencyWeight, alpha, metric, concurrency);
                Array.Clear(counts);
                Array.Clear(sumA);
                Array.Clear(sumB);
                for (var n = 0; n < picks.Length; n++)
                {
                    var k = _priceQueries[n] * m + picks[n];
                    counts[picks[n]]++;
                    sumA[picks[n]] += s.E2eA[k];
                    sumB[picks[n]] += s.E2eB[k];
                }

                var change = 0.0;
                for (var i = 0; i < m; i++)
                {
                    var target = counts[i] == 0
                        ? 1
                        : Math.Min(s.Deployments[i].MaxConcurrency, ExplorerSample.Concurrency(rate * counts[i] / picks.Length, sumA[i] / counts[i], sumB[i] / counts[i]));
                    var next = concurrency[i] + 0.5 * (target - concurrency[i]);
                    change = Math.Max(change, Math.Abs(next - concurrency[i]) / concurrency[i]);
                    concurrency[i] = next;
                }

                if (change < 2e-3)
                {
                    break;
                }
            }
        }

        var all = new int[s.Queries];
        RouteInto(null, all, qualityWeight, costWeight, latencyWeight, alpha, metric, concurrency);
        return (all, concurrency);
    }

    /// <summary>The argmax of the score at fixed concurrencies, for <paramref name="queries"/> (null: every query).</summary>
    private void RouteInto(
        int[]? queries, int[] picks, double qualityWeight, double[] costWeight, double latencyWeight, double[] alpha, LatencyMetric metric, double[] concurrency)
    {
        var s = Sample;
        var m = s.Deployments.Count;
        var (la, lb) = metric == LatencyMetric.Ttft ? (s.TtftA, s.TtftB) : (s.E2eA, s.E2eB);

        // Per deployment, the score is w_q·q − w_c·fixed − w_c·g·A − w_c·g·c·B − w_l·LA − w_l·c·LB − α: hoist the products.
        Span<double> gpuA = stackalloc double[m];
        Span<double> gpuB = stackalloc double[m];
        Span<double> latB = stackalloc double[m];
        for (var i = 0; i < m; i++)
        {
            var perMs = costWeight[i] * s.Deployments[i].GpuUsdPerSecond / 1000.0 / concurrency[i];
            gpuA[i] = perMs;
            gpuB[i] = perMs * concurrency[i];
            latB[i] = latencyWeight * concurrency[i];
        }

        if (queries is null)
        {
            RouteAllVectorised(picks, qualityWeight, costWeight, latencyWeight, alpha, metric, gpuA, gpuB, latB);
            return;
        }

        var q = s.Quality;
        var fixedCost = s.FixedCostUsd;
        var (ea, eb) = (s.E2eA, s.E2eB);
        var count = queries.Length;
        if (_perTokenOnly)
        {
            // Every deployment is priced per token (the common case): the GPU-time terms vanish, four arrays instead of six.
            for (var n = 0; n < count; n++)
            {
                var row = queries[n] * m;
                var best = 0;
                var bestScore = double.NegativeInfinity;
                for (var i = 0; i < m; i++)
                {
                    var k = row + i;
                    var score = qualityWeight * q[k] - costWeight[i] * fixedCost[k] - latencyWeight * la[k] - latB[i] * lb[k] - alpha[i];
                    if (score > bestScore)
                    {
                        (best, bestScore) = (i, score);
                    }
                }

                picks[n] = best;
            }

            return;
        }

        for (var n = 0; n < count; n++)
        {
            var row = queries[n] * m;
            var best = 0;
            var bestScore = double.NegativeInfinity;
            for (var i = 0; i < m; i++)
            {
                var k = row + i;
                var score = qualityWeight * q[k] - costWeight[i] * fixedCost[k] - gpuA[i] * ea[k] - gpuB[i] * eb[k]
                            - latencyWeight * la[k] - latB[i] * lb[k] - alpha[i];
                if (score > bestScore)
                {
                    (best, bestScore) = (i, score);
                }
            }

            picks[n] = best;
        }
    }

    /// <summary>
    /// <see cref="RouteInto"/> for the whole sample, deployment by deployment over <see cref="Vector{T}"/>-wide blocks of
    /// queries (the deployment-major copies), keeping each query's best score and its deployment. The score is the same
    /// expression in the same order, and a later deployment wins only when strictly better, so the picks are the scalar loop's.
    /// </summary>
    private void RouteAllVectorised(
        int[] picks, double qualityWeight, double[] costWeight, double latencyWeight, double[] alpha, LatencyMetric metric,
        ReadOnlySpan<double> gpuA, ReadOnlySpan<double> gpuB, ReadOnlySpan<double> latB)
    {
        var s = Sample;
        var (n, m) = (s.Queries, s.Deployments.Count);
        var (la, lb) = metric == LatencyMetric.Ttft ? (s.TtftAByDeployment, s.TtftBByDeployment) : (s.E2eAByDeployment, s.E2eBByDeployment);
        var (q, f, ea, eb) = (s.QualityByDeployment, s.FixedCostByDeployment, s.E2eAByDeployment, s.E2eBByDeployment);
        var best = ArrayPool<double>.Shared.Rent(n);
        var index = ArrayPool<double>.Shared.Rent(n);
        try
        {
            Array.Fill(best, double.NegativeInfinity, 0, n);
            Array.Clear(index, 0, n);
            var width = Vector<double>.Count;
            for (var i = 0; i < m; i++)
            {
                var (wc, ga, gb, wb, a) = (costWeight[i], gpuA[i], gpuB[i], latB[i], alpha[i]);
                var gpu = !_perTokenOnly;
                var label = new Vector<double>(i);
                var o = i * n;
                var j = 0;
                for (; j <= n - width; j += width)
                {
                    var score = new Vector<double>(q, o + j) * qualityWeight - new Vector<double>(f, o + j) * wc;
                    if (gpu)
                    {
                        score = score - new Vector<double>(ea, o + j) * ga - new Vector<double>(eb, o + j) * gb;
                    }

                    score = score - new Vector<double>(la, o + j) * latencyWeight - new Vector<double>(lb, o + j) * wb - new Vector<double>(a);
                    var current = new Vector<double>(best, j);
                    var better = Vector.GreaterThan(score, current);
                    Vector.ConditionalSelect(better, score, current).CopyTo(best, j);
                    Vector.ConditionalSelect(better, label, new Vector<double>(index, j)).CopyTo(index, j);
                }

                for (; j < n; j++)
                {
                    var k = o + j;
                    var score = qualityWeight * q[k] - wc * f[k];
                    if (gpu)
                    {
                        score = score - ga * ea[k] - gb * eb[k];
                    }

                    score = score - latencyWeight * la[k] - wb * lb[k] - a;
                    if (score > best[j])
                    {
                        (best[j], index[j]) = (score, i);
                    }
                }
            }

            for (var j = 0; j < n; j++)
            {
                picks[j] = (int)index[j];
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(best);
            ArrayPool<double>.Shared.Return(index);
        }
    }

    /// <summary>
    /// RouterWise's prices for multiplier <paramref name="beta"/> (per ms): the damped fixed point
    /// <c>α_i ← α_i + η_k·(β·∂/∂w_i [w_i·ℓ_i(λ·w_i)] − α_i)</c>, η_k = 1/(1 + k/10), routing the price subsample by
    /// <c>argmax_i q̂ − α_i</c> after each step (as <see cref="RouterWise"/> does).
    /// </summary>
    internal double[] Prices(double beta, double rate, LatencyMetric metric)
    {
        var m = Sample.Deployments.Count;
        var alpha = new double[m];
        if (beta <= 0)
        {
            return alpha;
        }

        var curves = Enumerable.Range(0, m).Select(i => Sample.RateLatency(i, metric)).ToArray();
        var shares = new double[m];
        RouteSubsample(alpha, shares);
        for (var k = 1; k <= Options.PriceIterations; k++)
        {
            var eta = 1.0 / (1 + k / 10.0);
            for (var i = 0; i < m; i++)
            {
                // ∂/∂w [w·ℓ(λw)] = ℓ(λw) + λw·ℓ'(λw).
                var r = rate * shares[i];
                var marginal = curves[i](r) + r * Sample.RateLatencySlope(i, metric, r);
                alpha[i] += eta * (beta * marginal - alpha[i]);
            }

            RouteSubsample(alpha, shares);
        }

        return alpha;
    }

    private void RouteSubsample(double[] alpha, double[] shares)
    {
        var m = alpha.Length;
        Array.Clear(shares);
        var q = Sample.Quality;
        foreach (var j in _priceQueries)
        {
            var row = j * m;
            var best = 0;
            for (var i = 1; i < m; i++)
            {
                if (q[row + i] - alpha[i] > q[row + best] - alpha[best])
                {
                    best = i;
                }
            }

            shares[best]++;
        }

        for (var i = 0; i < m; i++)
        {
            shares[i] /= _priceQueries.Length;
        }
    }

    /// <summary>
    /// The metrics of a split: per deployment the concurrency from Little's law at its share of <paramref name="rate"/>,
    /// then each query's latency and cost at that concurrency. Queries with pick −1 are left out (the oracle's unlabelled ones).
    /// </summary>
    private ExplorerPoint Measure(
        int[] picks, double rate, LatencyMetric metric, double[] quality, ExplorerFamily family, string label,
        RoutingPlan plan, double? beta, string? fixedDeployment)
    {
        var s = Sample;
        var m = s.Deployments.Count;
        var (la, lb) = metric == LatencyMetric.Ttft ? (s.TtftA, s.TtftB) : (s.E2eA, s.E2eB);
        var counts = new int[m];
        var sumA = new double[m];
        var sumB = new double[m];
        double sumQuality = 0, fixedCost = 0;
        var served = 0;
        for (int j = 0, row = 0; j < s.Queries; j++, row += m)
        {
            var i = picks[j];
            if (i < 0)
            {
                continue;
            }

            var k = row + i;
            served++;
            counts[i]++;
            sumA[i] += s.E2eA[k];
            sumB[i] += s.E2eB[k];
            sumQuality += quality[k];
            fixedCost += s.FixedCostUsd[k];
        }

        var concurrency = new double[m];
        var overloaded = new List<string>();
        var beyond = new List<string>();
        var gpuCost = 0.0;
        var share = new Dictionary<string, double>(m);
        for (var i = 0; i < m; i++)
        {
            concurrency[i] = 1;
            if (counts[i] == 0)
            {
                continue;
            }

            var d = s.Deployments[i];
            share[d.Name] = (double)counts[i] / served;
            var c = ExplorerSample.Concurrency(rate * counts[i] / served, sumA[i] / counts[i], sumB[i] / counts[i]);
            if (double.IsInfinity(c) || c > d.MaxConcurrency)
            {
                overloaded.Add(d.Name);
                c = double.PositiveInfinity;
            }
            else if (c > d.ProfiledConcurrency)
            {
                beyond.Add(d.Name);
            }

            concurrency[i] = c;
            if (d.GpuUsdPerSecond > 0)
            {
                // GPU $/s × e2e / c per request, summed: $/s · (ΣA + ΣB·c) / 1000 / c.
                var held = double.IsInfinity(c) ? d.MaxConcurrency : c;
                gpuCost += d.GpuUsdPerSecond * (sumA[i] + sumB[i] * held) / 1000.0 / held;
            }
        }

        double mean, p95;
        if (served == 0)
        {
            (mean, p95) = (double.NaN, double.NaN);
        }
        else if (overloaded.Count > 0)
        {
            (mean, p95) = (double.PositiveInfinity, double.PositiveInfinity);
        }
        else
        {
            var latencies = new double[served];
            var total = 0.0;
            var n = 0;
            for (int j = 0, row = 0; j < s.Queries; j++, row += m)
            {
                var i = picks[j];
                if (i >= 0)
                {
                    var value = la[row + i] + lb[row + i] * concurrency[i];
                    latencies[n++] = value;
                    total += value;
                }
            }

            mean = total / served;
            p95 = OperatingPoints.Percentile(latencies, 0.95);
        }

        var meanQuality = served == 0 ? double.NaN : sumQuality / served;
        var costPer1k = served == 0 ? double.NaN : (fixedCost + gpuCost) / served * 1000;
        return new ExplorerPoint(family, label, meanQuality, mean, p95, costPer1k, share, plan, beta, fixedDeployment, overloaded, beyond);
    }

    // ------------------------------------------------------------------ helpers

    /// <summary>The plan policy names the explorer's families map to (the routing side's <c>flare</c> and <c>routerwise</c>).</summary>
    public const string FlarePolicyName = "flare";

    /// <inheritdoc cref="FlarePolicyName"/>
    public const string RouterWisePolicyName = "routerwise";

    private RoutingPlan Plan(string policy, double costWeight, double latencyWeight, LatencyMetric metric) =>
        new(0, policy, 1, costWeight, latencyWeight, Sample.CostScaleUsd, Sample.LatencyScaleMs(metric),
            new Dictionary<string, double>(), new Dictionary<string, double>());

    // 0, then n − 1 log-spaced values from 10^lo to 10^hi.
    private static double[] WeightSteps(int n, double lo, double hi) =>
        [0, .. Enumerable.Range(0, Math.Max(0, n - 1)).Select(k => Math.Pow(10, lo + (hi - lo) * k / Math.Max(1, n - 2)))];
}
