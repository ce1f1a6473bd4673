using Flare.Routing.Estimation;
using Flare.Routing.Optimization;
using Flare.Routing.Optimization.OrTools;
using Flare.Routing.Profiles;
using Flare.Routing.Registry;
using Flare.Routing.Routing;

namespace Flare.Tests.Routing.Routing;

public sealed class PlanComputationTests
{
    // big: $10/M tokens, small: $1/M (API prices, so costs are exact).
    private static readonly DeploymentTarget Big = new(1, "big@a", "big", "big", DeploymentKind.Api, "http://a", null, 8, 10, 10, 0);
    private static readonly DeploymentTarget Small = new(2, "small@b", "small", "small", DeploymentKind.Api, "http://b", null, 24, 1, 1, 0);

    private static PromptEstimate Estimate(double qBig, double qSmall) => new(100,
    [
        new ModelEstimate("big", qBig, 100, null, new EstimateConfidence(5, 0.9, 1), 0.8),
        new ModelEstimate("small", qSmall, 100, null, new EstimateConfidence(5, 0.9, 1), 0.6),
    ], 5, 0.9);

    /// <summary>200 prompts; big is better on each by 0.05 to 0.45.</summary>
    private static PlanWorkload Workload(ProfileSnapshot? profiles = null)
    {
        var random = new Random(3);
        var prompts = Enumerable.Range(0, 200).Select(_ =>
        {
            var small = 0.3 + (0.4 * random.NextDouble());
            return new SamplePrompt(100, Estimate(Math.Min(1, small + 0.05 + (0.4 * random.NextDouble())), small));
        }).ToList();
        return PlanWorkload.Build([Big, Small], prompts, profiles ?? ProfileSnapshot.Empty, EstimationDefaults.Default, "test sample");
    }

    // big queues hard: TTFT = 100 + 200·(c − 1) ms; small does not: TTFT = 50 ms. TPOT 10 ms each.
    private static ProfileSnapshot QueueingProfiles()
    {
        var good = new CurveFitQuality(100, 0.99, 0.05, 0.05, FitVerdict.Good, null);
        return new ProfileSnapshot(1, new Dictionary<int, DeploymentProfile>
        {
            [1] = new(1, 1, new ProfileFit(new LatencyModel(100, 0, 0, 200, 10, 0, 0), good, good, good, 100, 0, 16), DateTime.UnixEpoch),
            [2] = new(2, 1, new ProfileFit(new LatencyModel(50, 0, 0, 0, 10, 0, 0), good, good, good, 100, 0, 16), DateTime.UnixEpoch),
        });
    }

    [Fact]
    public void RouterWise_LooseSlo_NoPrices_EverythingToTheBetterModel()
    {
        var result = PlanComputation.Compute("routerwise", new() { SloMs = 10_000, ArrivalRatePerSecond = 2 }, Workload(QueueingProfiles()), EstimationDefaults.Default);

        Assert.True(result.Succeeded, result.Failure);
        Assert.All(result.Prices!.Alpha.Values, a => Assert.Equal(0, a));
        Assert.Equal(1.0, result.Prediction!.TrafficShare["big@a"]);
    }

    [Fact]
    public void RouterWise_TightSlo_PricesTheQueueingDeployment_AndMeetsTheSlo()
    {
        // All to big at 2 req/s: mean TTFT ≈ 495 ms; all to small: 50 ms. τ = 200 ms forces a split.
        var workload = Workload(QueueingProfiles());
        var result = PlanComputation.Compute("routerwise", new() { SloMs = 200, ArrivalRatePerSecond = 2 }, workload, EstimationDefaults.Default);

        Assert.True(result.Succeeded, result.Failure);
        var alpha = result.Prices!.Alpha;
        Assert.True(alpha["big@a"] > alpha["small@b"], $"α big {alpha["big@a"]}, small {alpha["small@b"]}");
        Assert.True(result.Prices.Beta > 0);
        Assert.InRange(result.Prediction!.SloLatencyMs!.Value, 0, 200);
        Assert.InRange(result.Prediction.TrafficShare["big@a"], 0.05, 0.95);

        // The prices are RouterWise's own on the same problem, and the live policy routes the sample the way RouterWise did.
        var curves = new List<Func<double, double>>
        {
            RateLatencyCurve.FromModel(new LatencyModel(100, 0, 0, 200, 10, 0, 0), 100, 100, LatencyMetric.Ttft, 16).LatencyMs,
            RateLatencyCurve.FromModel(new LatencyModel(50, 0, 0, 0, 10, 0, 0), 100, 100, LatencyMetric.Ttft, 16).LatencyMs,
        };
        var quality = workload.Estimates.Select(r => r.Select(e => e.Quality).ToArray()).ToArray();
        var expected = RouterWise.Solve(new RouterWiseProblem(quality, curves, 2, 200));
        Assert.Equal(expected.Alpha[0], alpha["big@a"], 9);
        Assert.Equal(expected.Shares[0], result.Prediction.TrafficShare["big@a"], 9);
    }

    [Fact]
    public void RouterWise_SloNoSplitCanMeet_FailsWithTheReason()
    {
        var result = PlanComputation.Compute("routerwise", new() { SloMs = 10, ArrivalRatePerSecond = 2 }, Workload(QueueingProfiles()), EstimationDefaults.Default);

        Assert.False(result.Succeeded);
        Assert.Contains("No split meets the SLO", result.Failure);
    }

    [Fact]
    public void Port_WeightedBudgetSplit_PricesFromTheDualLp_PredictionStaysWithinBudget()
    {
        var workload = Workload();
        // Costs: big 200 tokens · $10/M = $0.002, small $0.0002 per request. Enough for ~25% of the sample on big.
        var parameters = new PlanParameters { BudgetUsd = 0.15, ExpectedRequests = 200, OnExhausted = ExhaustedBudget.Fallback };

        var result = PlanComputation.Compute("port", parameters, workload, EstimationDefaults.Default);

        Assert.True(result.Succeeded, result.Failure);
        var prices = result.Prices!;
        var qBig = workload.Estimates.Average(r => r[0].Quality);
        var qSmall = workload.Estimates.Average(r => r[1].Quality);
        var wBig = Math.Sqrt(qBig / 0.002);
        var wSmall = Math.Sqrt(qSmall / 0.0002);
        Assert.Equal(0.15 * wBig / (wBig + wSmall), prices.BudgetsUsd["big@a"], 9);
        Assert.Equal(1.0, prices.Epsilon);

        var dual = PortDualSolver.Solve(
            workload.Estimates.Select(r => r.Select(e => e.Quality).ToArray()).ToArray(),
            workload.Estimates.Select(r => r.Select(e => e.CostUsd).ToArray()).ToArray(),
            [prices.BudgetsUsd["big@a"], prices.BudgetsUsd["small@b"]], 1.0, 1e-4);
        Assert.Equal(dual.Gamma[0], prices.Gamma["big@a"], 9);

        var predicted = result.Prediction!;
        Assert.True(predicted.CostPer1kUsd / 1000 * 200 * (1 - predicted.DroppedShare) <= 0.15 + 1e-12);
        Assert.True(predicted.TrafficShare["big@a"] * 200 * 0.002 <= prices.BudgetsUsd["big@a"] + 1e-12);
    }

    [Fact]
    public void Port_EpsilonIsTheSampleShareOfTheExpectedRequests()
    {
        var result = PlanComputation.Compute("port", new() { BudgetUsd = 10 }, Workload(), EstimationDefaults.Default, observedRequestsPerPeriod: 10_000);

        Assert.Equal(200 / 10_000.0, result.Prices!.Epsilon!.Value, 12);
    }

    [Fact]
    public void Flare_PredictionIsTheOperatingPointOfTheSameWeights()
    {
        var workload = Workload();
        var parameters = new PlanParameters { QualityWeight = 1, CostWeight = 0.1 };

        var result = PlanComputation.Compute("flare", parameters, workload, EstimationDefaults.Default);

        Assert.True(result.Succeeded, result.Failure);
        var prices = result.Prices!;
        var all = workload.Estimates.SelectMany(r => r).ToList();
        Assert.Equal(all.Average(e => e.CostUsd), prices.CostScaleUsd!.Value, 12);
        var sample = new WorkloadSample(["big@a", "small@b"],
            all.Select(e => e.Quality).ToArray(), all.Select(e => e.CostUsd).ToArray(), all.Select(e => e.LatencyMs).ToArray());
        var expected = OperatingPoints.Evaluate(sample, new RoutingPlan(0, "flare", 1, 0.1, 0, prices.CostScaleUsd.Value, prices.LatencyScaleMs!.Value,
            new Dictionary<string, double>(), new Dictionary<string, double>()));
        var predicted = result.Prediction!;
        Assert.Equal(expected.MeanQuality, predicted.MeanQuality, 9);
        Assert.Equal(expected.CostPer1kUsd, predicted.CostPer1kUsd, 9);
        Assert.Equal(expected.TrafficShare["small@b"], predicted.TrafficShare["small@b"], 9);
        Assert.InRange(predicted.TrafficShare["small@b"], 0.05, 0.95); // the weight is a real trade-off here
    }

    [Fact]
    public void Threshold_ResolvesStrongAsBestAndWeakAsCheapest()
    {
        var result = PlanComputation.Compute("threshold", new() { Threshold = 0.2 }, Workload(), EstimationDefaults.Default);

        Assert.Equal("big", result.Prices!.StrongModel);
        Assert.Equal("small", result.Prices.WeakModel);
        var advantage = Workload().Estimates.Count(r => r[0].Quality - r[1].Quality > 0.2) / 200.0;
        Assert.Equal(advantage, result.Prediction!.TrafficShare.GetValueOrDefault("big@a"), 9);
    }

    [Fact]
    public void LeastOutstanding_PredictsSharesByCapacity()
    {
        var result = PlanComputation.Compute("least-outstanding", new(), Workload(), EstimationDefaults.Default);

        // Capacities 8 and 24.
        Assert.InRange(result.Prediction!.TrafficShare["big@a"], 0.23, 0.27);
        Assert.InRange(result.Prediction.TrafficShare["small@b"], 0.73, 0.77);
    }

    [Fact]
    public void Compute_NoHistoryNoProfile_NotesSayWhatWasAssumed()
    {
        var workload = PlanWorkload.Build([Big, Small], [new SamplePrompt(256, null)], ProfileSnapshot.Empty, EstimationDefaults.Default, "typical");

        var result = PlanComputation.Compute("best-quality", new(), workload, EstimationDefaults.Default);

        Assert.Contains(result.Prediction!.Notes, n => n.Contains("No routing history scores model 'big'"));
        Assert.Contains(result.Prediction.Notes, n => n.Contains("'small@b' has no fitted profile"));
    }

    [Theory]
    [InlineData("routerwise", "parameters.sloMs")]
    [InlineData("port", "parameters.budgetUsd")]
    [InlineData("fixed", "parameters.model")]
    [InlineData("nonsense", "policy")]
    public void Validate_MissingRequiredParameter_FieldError(string policy, string field) =>
        Assert.NotNull(new PlanParameters().Validate(policy).For(field));

    [Fact]
    public void Validate_FlareNegativeWeight_FieldError() =>
        Assert.NotNull(new PlanParameters { CostWeight = -1 }.Validate("flare").For("parameters.costWeight"));
}
