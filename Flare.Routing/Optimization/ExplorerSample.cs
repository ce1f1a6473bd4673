using Flare.Routing.Profiles;
using Flare.Routing.Routing;

namespace Flare.Routing.Optimization;

/// <summary>One deployment of an <see cref="ExplorerSample"/>: how it is paid for, how much load it takes, where it runs.</summary>
/// <param name="Name">The deployment's name: traffic shares and plan prices are keyed by it.</param>
/// <param name="Model">Its registered model.</param>
/// <param name="GpuUsdPerSecond">GPU price × GPUs per second when requests are paid by GPU time; 0 when the model's
/// per-token prices apply (then the cost is in <see cref="ExplorerSample.FixedCostUsd"/>).</param>
/// <param name="MaxConcurrency">Requests Flare sends it at once; a split that needs more overloads it.</param>
/// <param name="ProfiledConcurrency">The highest concurrency its profile measured; past it the curves extrapolate.</param>
/// <param name="GpuType">GPU type name; null for an API.</param>
/// <param name="GpuCount">GPUs it occupies (0 for an API).</param>
/// <param name="ParameterCountBillions">Its model's size, for the setup search's memory check.</param>
public sealed record ExplorerDeployment(
    string Name,
    string Model,
    double GpuUsdPerSecond,
    int MaxConcurrency,
    double ProfiledConcurrency,
    string? GpuType = null,
    int GpuCount = 0,
    double ParameterCountBillions = 0);

/// <summary>A deployment going into an <see cref="ExplorerSample"/>: its routing target (prices), its fitted latency and,
/// for the setup search, where it runs.</summary>
/// <param name="ProfiledConcurrency">The fit's largest measured concurrency (<see cref="ProfileFit.MaxConcurrency"/>).</param>
public sealed record ExplorerDeploymentInput(
    DeploymentTarget Target,
    LatencyModel Latency,
    double ProfiledConcurrency,
    string? GpuType = null,
    int GpuCount = 0,
    double ParameterCountBillions = 0);

/// <summary>One prompt of the workload: its input tokens and, per deployment (in the sample's order), q̂ and L̂_out.</summary>
/// <param name="InputTokens">L_in.</param>
/// <param name="Quality">q̂ per deployment, in [0, 1].</param>
/// <param name="OutputTokens">L̂_out per deployment, tokens.</param>
/// <param name="ActualQuality">The score the deployment's model really got on this prompt in the history, per deployment;
/// NaN (or a null array) where unknown. Only the oracle reads it.</param>
public sealed record ExplorerQueryInput(int InputTokens, double[] Quality, double[] OutputTokens, double[]? ActualQuality = null);

/// <summary>
/// The workload sample the Pareto explorer solves on (ROUTING.md §5): per query and deployment q̂, L̂_out, ĉ and ℓ̂ — with
/// ℓ̂ kept as a function of the load, because the arrival rate is one of the explorer's sliders. Stored flat,
/// query-major (index <c>j·Deployments.Count + i</c>), like <see cref="WorkloadSample"/>.
/// </summary>
/// <remarks>
/// <para>Latency at load. Each query's TTFT and e2e on deployment i are stored as a line in the concurrency c a request sees,
/// <c>A + B·c</c> (c ≥ 1): the chord of the fitted curve (<see cref="LatencyModel"/>) between c = 1 and the deployment's
/// profiled concurrency (at least 2), exact at both ends. The curves are affine in c except where the deployment turns
/// prefill-bound (their σ term), so the chord is the curve wherever it is affine and its linear stand-in across the switch.</para>
/// <para>The concurrency of a deployment receiving r requests/s with mean e2e <c>Ā + B̄·c</c> follows from Little's law,
/// <c>c = r·(Ā + B̄·c)/1000</c>, so <c>c = r·Ā / (1000 − r·B̄)</c>, at least 1; the same relation RouterWise's
/// <see cref="RateLatencyCurve.FromModel"/> samples at whole concurrencies (rate = c / e2e(c)). When
/// <c>r·B̄ ≥ 1000</c> or c exceeds the deployment's maximum concurrency, the deployment is overloaded.</para>
/// <para>Cost: per-token prices where the model has them (<see cref="DeploymentTarget.CostUsd"/>); otherwise GPU $/s ×
/// e2e / c, the GPU time a request holds with c requests sharing the deployment (Flare's choice, ROUTING.md §2.1).</para>
/// </remarks>
public sealed class ExplorerSample
{
    private ExplorerSample(IReadOnlyList<ExplorerDeployment> deployments, int queries)
    {
        Deployments = deployments;
        Queries = queries;
        var size = queries * deployments.Count;
        Quality = new double[size];
        OutputTokens = new int[size];
        InputTokens = new int[queries];
        TtftA = new double[size];
        TtftB = new double[size];
        E2eA = new double[size];
        E2eB = new double[size];
        FixedCostUsd = new double[size];
        ActualQuality = new double[size];
    }

    /// <summary>The deployments, in column order.</summary>
    public IReadOnlyList<ExplorerDeployment> Deployments { get; }

    /// <summary>Queries (prompts) in the sample.</summary>
    public int Queries { get; }

    /// <summary>q̂ per query and deployment.</summary>
    public double[] Quality { get; }

    /// <summary>L̂_out per query and deployment, tokens (rounded, at least 1).</summary>
    public int[] OutputTokens { get; }

    /// <summary>L_in per query.</summary>
    public int[] InputTokens { get; }

    /// <summary>TTFT at concurrency c is <c>TtftA + TtftB·c</c>, ms.</summary>
    public double[] TtftA { get; }

    /// <inheritdoc cref="TtftA"/>
    public double[] TtftB { get; }

    /// <summary>e2e at concurrency c is <c>E2eA + E2eB·c</c>, ms.</summary>
    public double[] E2eA { get; }

    /// <inheritdoc cref="E2eA"/>
    public double[] E2eB { get; }

    /// <summary>Per-token cost of a query on a deployment, USD; 0 where GPU time is paid instead.</summary>
    public double[] FixedCostUsd { get; }

    /// <summary>The real score from the history, NaN where unknown.</summary>
    public double[] ActualQuality { get; }

    /// <summary>C: the mean ĉ over queries and deployments at one request in flight, USD. Normalises cost in FLARE's score.</summary>
    public double CostScaleUsd { get; private set; }

    /// <summary>Queries with a real score for every deployment: the ones the oracle is known on.</summary>
    public int FullyLabelledQueries { get; private set; }

    private double[] _meanTtftA = [], _meanTtftB = [], _meanE2eA = [], _meanE2eB = [];

    // The same values deployment-major (index i·Queries + j), so routing can score several queries at once per deployment.
    internal double[] QualityByDeployment { get; private set; } = [];
    internal double[] FixedCostByDeployment { get; private set; } = [];
    internal double[] TtftAByDeployment { get; private set; } = [];
    internal double[] TtftBByDeployment { get; private set; } = [];
    internal double[] E2eAByDeployment { get; private set; } = [];
    internal double[] E2eBByDeployment { get; private set; } = [];
    private double _ttftScale, _e2eScale;

    /// <summary>Builds the sample. Every query must have one value per deployment.</summary>
    public static ExplorerSample Create(IReadOnlyList<ExplorerDeploymentInput> deployments, IReadOnlyList<ExplorerQueryInput> queries)
    {
        ArgumentNullException.ThrowIfNull(deployments);
        ArgumentNullException.ThrowIfNull(queries);
        var m = deployments.Count;
        if (m == 0 || queries.Count == 0)
        {
            throw new ArgumentException("An explorer sample needs at least one deployment and one query.");
        }

        var columns = deployments.Select(d => new ExplorerDeployment(
            d.Target.Name,
            d.Target.ModelName,
            PerTokenPriced(d.Target) ? 0 : d.Target.GpuCostPerHourUsd / 3600.0,
            Math.Max(1, d.Target.MaxConcurrency),
            Math.Max(1, d.ProfiledConcurrency),
            d.GpuType,
            d.GpuCount,
            d.ParameterCountBillions)).ToList();
        var sample = new ExplorerSample(columns, queries.Count);
        for (var j = 0; j < queries.Count; j++)
        {
            var q = queries[j];
            if (q.Quality.Length != m || q.OutputTokens.Length != m || (q.ActualQuality is { } a && a.Length != m))
            {
                throw new ArgumentException($"Query {j} must have one quality and output length per deployment.", nameof(queries));
            }

            var lin = Math.Max(0, q.InputTokens);
            sample.InputTokens[j] = lin;
            var labelled = q.ActualQuality is not null;
            for (var i = 0; i < m; i++)
            {
                var k = j * m + i;
                var model = deployments[i].Latency;
                var lout = Math.Max(1, (int)Math.Round(q.OutputTokens[i]));
                sample.Quality[k] = q.Quality[i];
                sample.OutputTokens[k] = lout;
                sample.ActualQuality[k] = q.ActualQuality?[i] ?? double.NaN;
                labelled &= !double.IsNaN(sample.ActualQuality[k]);

                // The line through the curves at c = 1 and at the profiled concurrency (see remarks).
                var top = Math.Max(2, columns[i].ProfiledConcurrency);
                var (ttft1, e2e1) = (model.TtftMs(lin, lout, 1), model.E2eMs(lin, lout, 1));
                var tb = (model.TtftMs(lin, lout, top) - ttft1) / (top - 1);
                var eb = (model.E2eMs(lin, lout, top) - e2e1) / (top - 1);
                sample.TtftA[k] = ttft1 - tb;
                sample.TtftB[k] = tb;
                sample.E2eA[k] = e2e1 - eb;
                sample.E2eB[k] = eb;
                sample.FixedCostUsd[k] = PerTokenPriced(deployments[i].Target)
                    ? deployments[i].Target.CostUsd(lin, lout, sample.E2eMs(k, 1) / 1000.0, 1)
                    : 0;
            }

            if (labelled)
            {
                sample.FullyLabelledQueries++;
            }
        }

        sample.Summarise();
        return sample;
    }

    /// <summary>True when the model's per-token prices apply rather than GPU time (<see cref="DeploymentTarget.CostUsd"/>'s rule).</summary>
    public static bool PerTokenPriced(DeploymentTarget target) =>
        target.InputPricePerMTokUsd is not null && target.OutputPricePerMTokUsd is not null;

    /// <summary>e2e of entry k at concurrency c, ms.</summary>
    public double E2eMs(int k, double concurrency) => E2eA[k] + E2eB[k] * Math.Max(1, concurrency);

    /// <summary>TTFT of entry k at concurrency c, ms.</summary>
    public double TtftMs(int k, double concurrency) => TtftA[k] + TtftB[k] * Math.Max(1, concurrency);

    /// <summary>Cost of entry k at concurrency c on its deployment, USD.</summary>
    public double CostUsd(int k, double concurrency)
    {
        var g = Deployments[k % Deployments.Count].GpuUsdPerSecond;
        var c = Math.Max(1, concurrency);
        return FixedCostUsd[k] + (g > 0 ? g * E2eMs(k, c) / 1000.0 / c : 0);
    }

    /// <summary>L: the mean ℓ̂ over queries and deployments at one request in flight, ms. Normalises latency in FLARE's score.</summary>
    public double LatencyScaleMs(LatencyMetric metric) => metric == LatencyMetric.Ttft ? _ttftScale : _e2eScale;

    /// <summary>
    /// The concurrency a deployment sees at <paramref name="rate"/> requests/s when its requests' mean e2e is
    /// <c>a + b·c</c> ms (Little's law; at least 1); +∞ when the rate is past what the curves can serve.
    /// </summary>
    public static double Concurrency(double rate, double a, double b)
    {
        if (!(rate > 0))
        {
            return 1;
        }

        var denominator = 1000 - rate * b;
        return denominator <= 0 ? double.PositiveInfinity : Math.Max(1, rate * a / denominator);
    }

    /// <summary>
    /// RouterWise's <c>ℓ_i(rate)</c> for deployment <paramref name="deployment"/>: the mean <paramref name="metric"/> of its
    /// typical query (coefficients averaged over the sample) at that arrival rate, ms. Past the rate at which it reaches its
    /// maximum concurrency the curve continues with its slope there (finite, like
    /// <see cref="RateExtrapolation.ExtendLastSlope"/>), so solvers that need finite numbers get them.
    /// </summary>
    public Func<double, double> RateLatency(int deployment, LatencyMetric metric)
    {
        var (la, lb) = MeanCoefficients(deployment, metric);
        var ea = _meanE2eA[deployment];
        var eb = _meanE2eB[deployment];
        var max = Deployments[deployment].MaxConcurrency;
        var capacity = CapacityPerSecond(deployment);
        var atCapacity = la + lb * Math.Min(max, Concurrency(capacity, ea, eb));
        var slopeAtCapacity = lb * ConcurrencySlope(capacity, ea, eb);
        return rate => rate <= capacity
            ? la + lb * Concurrency(rate, ea, eb)
            : atCapacity + slopeAtCapacity * (rate - capacity);
    }

    /// <summary>d/dr of RouterWise's ℓ_i(r) at <paramref name="rate"/> (see <see cref="RateLatency"/>).</summary>
    internal double RateLatencySlope(int deployment, LatencyMetric metric, double rate)
    {
        var (_, lb) = MeanCoefficients(deployment, metric);
        var capacity = CapacityPerSecond(deployment);
        return lb * ConcurrencySlope(Math.Min(rate, capacity), _meanE2eA[deployment], _meanE2eB[deployment]);
    }

    /// <summary>
    /// The most requests/s deployment <paramref name="deployment"/> serves for its typical query without passing its
    /// maximum concurrency M: the throughput M / e2e(M).
    /// </summary>
    public double CapacityPerSecond(int deployment)
    {
        double m = Deployments[deployment].MaxConcurrency;
        var e2e = _meanE2eA[deployment] + _meanE2eB[deployment] * m;
        return e2e > 0 ? 1000 * m / e2e : double.PositiveInfinity;
    }

    /// <summary>The fleet's capacity: every deployment's <see cref="CapacityPerSecond"/> together.</summary>
    public double FleetCapacityPerSecond => Enumerable.Range(0, Deployments.Count).Sum(CapacityPerSecond);

    internal (double A, double B) MeanCoefficients(int deployment, LatencyMetric metric) => metric == LatencyMetric.Ttft
        ? (_meanTtftA[deployment], _meanTtftB[deployment])
        : (_meanE2eA[deployment], _meanE2eB[deployment]);

    // dc/dr of c = r·a/(1000 − r·b): 1000·a/(1000 − r·b)², 0 while c is held at 1.
    private static double ConcurrencySlope(double rate, double a, double b)
    {
        var denominator = 1000 - rate * b;
        if (denominator <= 0)
        {
            return 0;
        }

        return rate * a / denominator <= 1 ? 0 : 1000 * a / (denominator * denominator);
    }

    private void Summarise()
    {
        var m = Deployments.Count;
        _meanTtftA = new double[m];
        _meanTtftB = new double[m];
        _meanE2eA = new double[m];
        _meanE2eB = new double[m];
        double cost = 0, ttft = 0, e2e = 0;
        for (var k = 0; k < Quality.Length; k++)
        {
            var i = k % m;
            _meanTtftA[i] += TtftA[k];
            _meanTtftB[i] += TtftB[k];
            _meanE2eA[i] += E2eA[k];
            _meanE2eB[i] += E2eB[k];
            cost += CostUsd(k, 1);
            ttft += TtftMs(k, 1);
            e2e += E2eMs(k, 1);
        }

        QualityByDeployment = Transpose(Quality);
        FixedCostByDeployment = Transpose(FixedCostUsd);
        TtftAByDeployment = Transpose(TtftA);
        TtftBByDeployment = Transpose(TtftB);
        E2eAByDeployment = Transpose(E2eA);
        E2eBByDeployment = Transpose(E2eB);
        for (var i = 0; i < m; i++)
        {
            _meanTtftA[i] /= Queries;
            _meanTtftB[i] /= Queries;
            _meanE2eA[i] /= Queries;
            _meanE2eB[i] /= Queries;
        }

        CostScaleUsd = cost > 0 ? cost / Quality.Length : 1;
        _ttftScale = ttft > 0 ? ttft / Quality.Length : 1;
        _e2eScale = e2e > 0 ? e2e / Quality.Length : 1;
    }

    private double[] Transpose(double[] queryMajor)
    {
        var m = Deployments.Count;
        var result = new double[queryMajor.Length];
        for (var j = 0; j < Queries; j++)
        {
            for (var i = 0; i < m; i++)
            {
                result[i * Queries + j] = queryMajor[j * m + i];
            }
        }

        return result;
    }
}
