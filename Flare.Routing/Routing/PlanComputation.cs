using System.Globalization;
using Flare.Routing.Estimation;
using Flare.Routing.Optimization;
using Flare.Routing.Optimization.OrTools;
using Flare.Routing.Profiles;

namespace Flare.Routing.Routing;

/// <summary>One prompt of a workload sample: its input tokens and the history's estimates for it (null without history).</summary>
public readonly record struct SamplePrompt(int InputTokens, PromptEstimate? Estimate);

/// <summary>
/// A workload sample with every deployment's predictions on every prompt (ROUTING.md §1), at light load (one request in
/// flight): what a plan's prices are computed on and its metrics predicted from.
/// </summary>
public sealed class PlanWorkload
{
    private PlanWorkload(IReadOnlyList<DeploymentTarget> deployments, CandidateEstimate[][] estimates, int[] inputTokens,
        ProfileSnapshot profiles, string source, IReadOnlyList<string> notes)
    {
        (Deployments, Estimates, InputTokens, Profiles, Source, Notes) = (deployments, estimates, inputTokens, profiles, source, notes);
    }

    /// <summary>The deployments, in the order of each row of <see cref="Estimates"/>.</summary>
    public IReadOnlyList<DeploymentTarget> Deployments { get; }

    /// <summary>[prompt][deployment] predictions.</summary>
    public CandidateEstimate[][] Estimates { get; }

    /// <summary>L_in of each prompt.</summary>
    public int[] InputTokens { get; }

    public ProfileSnapshot Profiles { get; }

    /// <summary>Where the prompts came from, in words.</summary>
    public string Source { get; }

    /// <summary>Fallbacks the predictions rest on, in words (no history for a model, no profile for a deployment).</summary>
    public IReadOnlyList<string> Notes { get; }

    public int Queries => Estimates.Length;

    /// <summary>Estimates every deployment on every prompt with <see cref="CandidateEstimator"/> at one request in flight.</summary>
    public static PlanWorkload Build(
        IReadOnlyList<DeploymentTarget> deployments, IReadOnlyList<SamplePrompt> prompts, ProfileSnapshot profiles,
        EstimationDefaults defaults, string source)
    {
        ArgumentNullException.ThrowIfNull(deployments);
        ArgumentNullException.ThrowIfNull(prompts);
        var estimates = prompts
            .Select(p => deployments.Select(d => CandidateEstimator.For(d, 1, p.Estimate, p.InputTokens, null, profiles, defaults)).ToArray())
            .ToArray();
        var notes = new List<string>();
        foreach (var model in deployments.Select(d => d.ModelName).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            var column = deployments.Select((d, k) => (d, k)).First(x => x.d.ModelName == model).k;
            if (estimates.Length > 0 && estimates.All(row => row[column].Source == EstimateSource.Default))
            {
                notes.Add(string.Create(CultureInfo.InvariantCulture,
                    $"No routing history scores model '{model}': q̂ = {defaults.Quality:0.###} and L̂ = {defaults.OutputTokens:0} tokens (the neutral defaults)."));
            }
        }

        foreach (var d in deployments.Where(d => profiles.For(d.Id) is null))
        {
            notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"Deployment '{d.Name}' has no fitted profile: its latency is {defaults.UnprofiledTtftMs:0} ms to the first token + {defaults.UnprofiledTpotMs:0.#} ms per output token at any load."));
        }

        return new PlanWorkload(deployments, estimates, prompts.Select(p => p.InputTokens).ToArray(), profiles, source, notes);
    }
}

/// <summary>A computed plan: prices and predicted metrics, or why it could not be computed.</summary>
public sealed record PlanComputationResult(PlanPrices? Prices, PlanPrediction? Prediction, string? Failure)
{
    public bool Succeeded => Failure is null;

    public static PlanComputationResult Failed(string reason) => new(null, null, reason);
}

/// <summary>
/// Computes a routing plan off the request path (ROUTING.md §1, §5): the prices its policy routes by, then the metrics it
/// is predicted to give, from routing the workload sample through the very policy object the request path would use.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>flare: the weights are the operator's; the plan fixes the scales C and L (the sample's mean ĉ and ℓ̂ over
/// deployments) so the weights are unitless.</item>
/// <item>routerwise: α and β from <see cref="RouterWise.Solve"/> with the sample's q̂, each deployment's rate-latency
/// curve from its fitted profile at the sample's mean lengths (flat at the defaults when unprofiled), λ and τ from the
/// parameters. A plan whose SLO no split can meet fails with RouterWise's reason.</item>
/// <item>port: budgets split per <see cref="BudgetSplit"/> (ROUTING.md §2.3), γ from <see cref="PortDualSolver"/> on the
/// sample with ε = sample size / requests expected per period. The prediction runs PORT with ε of each budget.</item>
/// <item>threshold: the strong and weak models, as given or resolved on the sample (best mean q̂, cheapest mean ĉ).</item>
/// </list>
/// </remarks>
public static class PlanComputation
{
    /// <param name="observedRequestsPerPeriod">Requests the request log saw over the last budget period (port's default
    /// for <see cref="PlanParameters.ExpectedRequests"/>); null when unknown.</param>
    public static PlanComputationResult Compute(
        string policy, PlanParameters parameters, PlanWorkload workload, EstimationDefaults defaults, double? observedRequestsPerPeriod = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(workload);
        var errors = parameters.Validate(policy);
        if (!errors.IsEmpty)
        {
            return PlanComputationResult.Failed(errors.ToString());
        }

        if (workload.Deployments.Count == 0 || workload.Queries == 0)
        {
            // A policy without prices still works on deployments added later; one with prices has nothing to price.
            const string none = "There is no enabled deployment to plan for.";
            return RoutingPolicies.NeedsPlan(policy)
                ? PlanComputationResult.Failed(none)
                : new PlanComputationResult(PlanPrices.Empty,
                    new PlanPrediction(0, 0, 0, 0, new Dictionary<string, double>(), 1, workload.Queries, workload.Source, null, [none]), null);
        }

        var notes = new List<string>(workload.Notes);
        double? sloLatency = null;
        IRoutingPolicy sampled;
        PlanPrices prices;
        switch (policy)
        {
            case RoutingPolicies.Flare:
                prices = FlareScales(workload, parameters.LatencyMetric ?? LatencyMetric.E2e, notes);
                sampled = RoutingPolicies.Create(policy, parameters, prices, DateTime.UnixEpoch);
                break;
            case RoutingPolicies.RouterWise:
            {
                var solution = SolveRouterWise(workload, parameters, defaults);
                if (!solution.Feasible)
                {
                    return PlanComputationResult.Failed(solution.Reason ?? "RouterWise found no split that meets the SLO.");
                }

                prices = new PlanPrices { Alpha = ByName(workload, solution.Alpha), Beta = solution.Beta };
                sloLatency = solution.MeanLatencyMs;
                sampled = RoutingPolicies.Create(policy, parameters, prices, DateTime.UnixEpoch);
                break;
            }

            case RoutingPolicies.Port:
            {
                var n = workload.Queries;
                var expected = Math.Max(n, parameters.ExpectedRequests ?? observedRequestsPerPeriod ?? n);
                var epsilon = n / expected;
                var budgets = SplitBudget(workload, parameters.BudgetUsd!.Value, parameters.BudgetSplit ?? BudgetSplit.Weighted);
                var alpha = parameters.QualityScale ?? PortDefaults.QualityScale;
                var quality = workload.Estimates.Select(r => r.Select(e => e.Quality).ToArray()).ToArray();
                var cost = workload.Estimates.Select(r => r.Select(e => e.CostUsd).ToArray()).ToArray();
                var dual = PortDualSolver.Solve(quality, cost, budgets, epsilon, alpha);
                if (!dual.Succeeded)
                {
                    return PlanComputationResult.Failed(dual.Failure!);
                }

                prices = new PlanPrices { Gamma = ByName(workload, dual.Gamma), BudgetsUsd = ByName(workload, budgets), Epsilon = epsilon };
                notes.Add(string.Create(CultureInfo.InvariantCulture,
                    $"ε = {n:N0} sampled prompts / {expected:N0} requests expected per period = {epsilon:0.####}; the prediction gives the sample ε of each budget."));
                var sampleBudgets = ByName(workload, budgets.Select(b => b * epsilon).ToArray());
                sampled = new PortPolicy(prices.Gamma, sampleBudgets, alpha, parameters.OnExhausted ?? ExhaustedBudget.Fallback,
                    DateTime.UnixEpoch, TimeSpan.FromDays(1));
                break;
            }

            case RoutingPolicies.Threshold:
            {
                var (strong, weak, reason) = ResolveThresholdModels(workload, parameters);
                if (reason is not null)
                {
                    return PlanComputationResult.Failed(reason);
                }

                prices = new PlanPrices { StrongModel = strong, WeakModel = weak };
                sampled = RoutingPolicies.Create(policy, parameters, prices, DateTime.UnixEpoch);
                break;
            }

            case RoutingPolicies.Fixed:
                if (!workload.Deployments.Any(d => d.ModelName == parameters.Model))
                {
                    return PlanComputationResult.Failed($"Model '{parameters.Model}' has no enabled deployment.");
                }

                prices = PlanPrices.Empty;
                sampled = RoutingPolicies.Create(policy, parameters, prices, DateTime.UnixEpoch);
                break;
            default:
                prices = PlanPrices.Empty;
                sampled = RoutingPolicies.Create(policy, parameters, prices, DateTime.UnixEpoch);
                break;
        }

        var prediction = Predict(sampled, workload, simulateLoad: policy == RoutingPolicies.LeastOutstanding);
        return new PlanComputationResult(prices, prediction with { SloLatencyMs = sloLatency, Notes = notes }, null);
    }

    /// <summary>
    /// Routes every prompt of the sample through <paramref name="policy"/> (in order, at light load) and sums what the
    /// chosen deployments are predicted to give. With <paramref name="simulateLoad"/> each choice stays in flight until
    /// every deployment is full, so a load-balancing policy spreads the sample the way it spreads steady traffic.
    /// </summary>
    public static PlanPrediction Predict(IRoutingPolicy policy, PlanWorkload workload, bool simulateLoad = false)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(workload);
        var m = workload.Deployments.Count;
        var states = Enumerable.Range(0, m).Select(_ => new DeploymentState()).ToArray();
        var candidates = new Candidate[m];
        var counts = new int[m];
        var latencies = new List<double>(workload.Queries);
        var (quality, latency, cost, dropped) = (0.0, 0.0, 0.0, 0);
        for (var j = 0; j < workload.Queries; j++)
        {
            var request = new RoutingRequest("plan", workload.InputTokens[j], 0, DateTime.UnixEpoch);
            var pick = Choose();
            if (pick == RoutingDecision.NoCandidate && simulateLoad)
            {
                states = Enumerable.Range(0, m).Select(_ => new DeploymentState()).ToArray();
                pick = Choose();
            }

            if (pick < 0)
            {
                dropped++;
                continue;
            }

            if (simulateLoad)
            {
                states[pick].Enter();
            }

            var e = workload.Estimates[j][pick];
            counts[pick]++;
            quality += e.Quality;
            latency += e.LatencyMs;
            cost += e.CostUsd;
            latencies.Add(e.LatencyMs);

            int Choose()
            {
                for (var i = 0; i < m; i++)
                {
                    candidates[i] = new Candidate(workload.Deployments[i], states[i], workload.Estimates[j][i]);
                }

                return policy.Choose(request, candidates);
            }
        }

        var served = latencies.Count;
        var n = workload.Queries;
        latencies.Sort();
        var share = new Dictionary<string, double>(StringComparer.Ordinal);
        for (var i = 0; i < m; i++)
        {
            if (counts[i] > 0)
            {
                share[workload.Deployments[i].Name] = (double)counts[i] / n;
            }
        }

        return new PlanPrediction(
            served == 0 ? 0 : quality / served,
            served == 0 ? 0 : latency / served,
            served == 0 ? 0 : latencies[Math.Clamp((int)Math.Ceiling(0.95 * served) - 1, 0, served - 1)],
            served == 0 ? 0 : cost / served * 1000,
            share,
            (double)dropped / n,
            n,
            workload.Source,
            null,
            workload.Notes);
    }

    /// <summary>
    /// PORT's budget split (ROUTING.md §2.3): deployment i's share of <paramref name="totalUsd"/> is ∝ sqrt(mean q̂ / mean ĉ)
    /// (weighted), 1 (uniform), mean ĉ (cost) or mean q̂ (quality), with the means over the sample. Uniform when every
    /// weight is 0.
    /// </summary>
    public static double[] SplitBudget(PlanWorkload workload, double totalUsd, BudgetSplit split)
    {
        var m = workload.Deployments.Count;
        var weights = new double[m];
        for (var i = 0; i < m; i++)
        {
            var q = workload.Estimates.Average(r => r[i].Quality);
            var c = Math.Max(1e-12, workload.Estimates.Average(r => r[i].CostUsd));
            weights[i] = split switch
            {
                BudgetSplit.Weighted => Math.Sqrt(Math.Max(0, q) / c),
                BudgetSplit.Cost => c,
                BudgetSplit.Quality => Math.Max(0, q),
                _ => 1,
            };
        }

        var sum = weights.Sum();
        return weights.Select(w => sum > 0 && double.IsFinite(sum) ? totalUsd * w / sum : totalUsd / m).ToArray();
    }

    private static PlanPrices FlareScales(PlanWorkload w, LatencyMetric metric, List<string> notes)
    {
        var all = w.Estimates.SelectMany(r => r).ToList();
        var cost = all.Average(e => e.CostUsd);
        var latency = all.Average(e => metric == LatencyMetric.Ttft ? e.TtftMs : e.LatencyMs);
        if (!(cost > 0))
        {
            notes.Add("Every predicted cost is 0 (no prices and no GPU cost): the cost weight has no effect.");
            cost = 1;
        }

        return new PlanPrices { CostScaleUsd = cost, LatencyScaleMs = latency > 0 ? latency : 1000 };
    }

    private static RouterWiseSolution SolveRouterWise(PlanWorkload w, PlanParameters p, EstimationDefaults defaults)
    {
        var metric = p.LatencyMetric ?? LatencyMetric.Ttft;
        var lin = (int)Math.Round(w.InputTokens.Average());
        var curves = new List<Func<double, double>>();
        for (var i = 0; i < w.Deployments.Count; i++)
        {
            var lout = (int)Math.Round(w.Estimates.Average(r => r[i].OutputTokens));
            if (w.Profiles.For(w.Deployments[i].Id) is { } profile)
            {
                var curve = RateLatencyCurve.FromModel(profile.Fit.Model, lin, lout, metric, profile.Fit.MaxConcurrency);
                curves.Add(curve.LatencyMs);
            }
            else
            {
                var flat = metric switch
                {
                    LatencyMetric.Ttft => defaults.UnprofiledTtftMs,
                    LatencyMetric.Tpot => defaults.UnprofiledTpotMs,
                    _ => defaults.UnprofiledTtftMs + (Math.Max(1, lout) - 1) * defaults.UnprofiledTpotMs,
                };
                curves.Add(_ => flat);
            }
        }

        var quality = w.Estimates.Select(r => r.Select(e => e.Quality).ToArray()).ToArray();
        return RouterWise.Solve(new RouterWiseProblem(quality, curves, p.ArrivalRatePerSecond!.Value, p.SloMs!.Value));
    }

    private static (string Strong, string Weak, string? Failure) ResolveThresholdModels(PlanWorkload w, PlanParameters p)
    {
        var models = w.Deployments.Select((d, i) => (d.ModelName, i)).GroupBy(x => x.ModelName, StringComparer.Ordinal)
            .Select(g => (Model: g.Key,
                Quality: w.Estimates.Average(r => g.Max(x => r[x.i].Quality)),
                Cost: w.Estimates.Average(r => g.Min(x => r[x.i].CostUsd))))
            .ToList();
        foreach (var named in new[] { p.StrongModel, p.WeakModel }.OfType<string>())
        {
            if (!models.Any(m => m.Model == named))
            {
                return ("", "", $"Model '{named}' has no enabled deployment.");
            }
        }

        var strong = p.StrongModel ?? models.OrderByDescending(m => m.Quality).ThenBy(m => m.Cost).ThenBy(m => m.Model, StringComparer.Ordinal).First().Model;
        var weak = p.WeakModel ?? models.Where(m => m.Model != strong).OrderBy(m => m.Cost).ThenByDescending(m => m.Quality)
            .ThenBy(m => m.Model, StringComparer.Ordinal).Select(m => m.Model).FirstOrDefault();
        if (weak is null || weak == strong)
        {
            return ("", "", "The threshold router needs two models with enabled deployments.");
        }

        return (strong, weak, null);
    }

    private static IReadOnlyDictionary<string, double> ByName(PlanWorkload w, double[] values) =>
        w.Deployments.Select((d, i) => (d.Name, Value: values[i])).ToDictionary(x => x.Name, x => x.Value, StringComparer.Ordinal);
}
