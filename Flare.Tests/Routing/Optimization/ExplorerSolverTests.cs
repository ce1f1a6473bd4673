using Flare.Routing.Optimization;
using Flare.Routing.Profiles;
using Flare.Routing.Registry;
using Flare.Routing.Routing;

namespace Flare.Tests.Routing.Optimization;

public sealed class ExplorerSolverTests
{
    /// <summary>
    /// Two prompts of 99 input and 101 output tokens, two deployments without load terms, at λ = 0 (one request in flight).
    /// small: TTFT 100 ms, TPOT 10 ms → e2e 100 + 100·10 = 1,100 ms; $1/M tokens → 200 tokens cost $0.0002 ($0.20 per 1k).
    /// big:   TTFT 200 ms, TPOT 20 ms → e2e 2,200 ms; $9/M → $0.0018 ($1.80 per 1k).
    /// q̂: small 0.5 and 0.6, big 0.9 and 0.7. The four splits (prompt 1, prompt 2):
    /// (S,S) q 0.55, mean 1,100, p95 1,100, $0.20 · (B,S) q 0.75, mean 1,650, p95 2,200, $1.00 ·
    /// (S,B) q 0.60, mean 1,650, p95 2,200, $1.00 (dominated by (B,S)) · (B,B) q 0.80, mean 2,200, p95 2,200, $1.80.
    /// </summary>
    internal static ExplorerSample TwoByTwo(int maxConcurrency = 256) => ExplorerSample.Create(
        [
            new(Target(1, "small", 1, maxConcurrency), new LatencyModel(100, 0, 0, 0, 10, 0, 0), 16),
            new(Target(2, "big", 9, maxConcurrency), new LatencyModel(200, 0, 0, 0, 20, 0, 0), 16),
        ],
        [
            new(99, [0.5, 0.9], [101, 101]),
            new(99, [0.6, 0.7], [101, 101]),
        ]);

    private static DeploymentTarget Target(int id, string name, double? usdPerMTok, int maxConcurrency = 256, double gpuUsdPerHour = 0) =>
        new(id, name, name + "-model", name, DeploymentKind.SelfHosted, "http://x/v1", null, maxConcurrency, usdPerMTok, usdPerMTok, gpuUsdPerHour);

    private static (double Q, double Mean, double P95, double Cost) Key(ExplorerPoint p) =>
        (Math.Round(p.MeanQuality, 9), Math.Round(p.MeanLatencyMs, 6), Math.Round(p.P95LatencyMs, 6), Math.Round(p.CostPer1kUsd, 9));

    [Fact]
    public void Solve_NoConstraints_FrontIsTheThreeNonDominatedSplits_BestIsBestQuality()
    {
        var result = new ExplorerSolver(TwoByTwo()).Solve(new ExplorerSettings(0));

        var front = result.Front.Select(Key).Distinct().OrderBy(k => k.Cost).ToList();
        Assert.Equal([(0.55, 1100.0, 1100.0, 0.2), (0.75, 1650.0, 2200.0, 1.0), (0.8, 2200.0, 2200.0, 1.8)], front);
        Assert.DoesNotContain(result.Points, p => Key(p) == (0.6, 1650.0, 2200.0, 1.0) && result.Front.Contains(p));
        Assert.Equal(0.8, result.Best!.MeanQuality, 9);
        Assert.Null(result.Infeasibility);
        Assert.Equal(["small", "big"], result.Singles.Select(s => s.FixedDeployment));
    }

    [Fact]
    public void Solve_MeanSlo_BestIsTheBestQualityUnderIt_WithItsTrafficSplit()
    {
        var result = new ExplorerSolver(TwoByTwo()).Solve(new ExplorerSettings(0, LatencyMetric.E2e, LatencyStatistic.Mean, SloMs: 1700));

        var best = result.Best!;
        Assert.Equal(0.75, best.MeanQuality, 9);
        Assert.Equal(1650, best.MeanLatencyMs, 6);
        Assert.Equal(1.0, best.CostPer1kUsd, 9);
        Assert.Equal(0.5, best.TrafficShare["big"], 9);
        Assert.Equal(0.5, best.TrafficShare["small"], 9);
    }

    [Fact]
    public void Solve_P95Slo_OnlyAllSmallMeetsIt()
    {
        var result = new ExplorerSolver(TwoByTwo()).Solve(new ExplorerSettings(0, LatencyMetric.E2e, LatencyStatistic.P95, SloMs: 1700));

        Assert.Equal(0.55, result.Best!.MeanQuality, 9);
        Assert.Equal(1.0, result.Best.TrafficShare["small"]);
    }

    [Fact]
    public void Solve_MinCost_CheapestMeetingTheQualityFloor()
    {
        var result = new ExplorerSolver(TwoByTwo()).Solve(new ExplorerSettings(0, MinQuality: 0.7, Objective: ExplorerObjective.MinCost));

        Assert.Equal(1.0, result.Best!.CostPer1kUsd, 9);
        Assert.Equal(0.75, result.Best.MeanQuality, 9);
    }

    [Fact]
    public void Solve_BudgetAndFloorConflict_SaysEachBindingConstraintAndByHowMuch()
    {
        // Meeting the SLO and the floor takes (B,S) at $1.00; within $0.80 and the SLO only (S,S) at quality 0.55.
        var settings = new ExplorerSettings(0, LatencyMetric.E2e, LatencyStatistic.Mean, SloMs: 1700, BudgetPer1kUsd: 0.8, MinQuality: 0.7);

        var result = new ExplorerSolver(TwoByTwo()).Solve(settings);

        Assert.Null(result.Best);
        var why = result.Infeasibility!;
        Assert.Contains("The budget binds: the cheapest point meeting the SLO and the quality floor costs $1.00 per 1k requests, $0.20 over the $0.80 budget.", why.Message);
        Assert.Contains("The quality floor binds: the best quality meeting the SLO and within the budget is 0.550, 0.150 under the 0.700 floor.", why.Message);
        Assert.Equal([ExplorerConstraint.Budget, ExplorerConstraint.MinQuality], why.Binding.Select(b => b.Constraint));
        var budget = why.Binding[0];
        Assert.Equal(1.0, budget.Closest, 9);
        Assert.Equal(0.2, budget.Gap, 9);
        // The SLO does not bind: nothing within the budget meets the floor, whatever its latency.
        Assert.DoesNotContain(why.Binding, b => b.Constraint == ExplorerConstraint.Slo);
    }

    [Fact]
    public void Solve_SloBelowEveryPoint_TheSloBindsByTheFastestPointsGap()
    {
        var settings = new ExplorerSettings(0, LatencyMetric.E2e, LatencyStatistic.Mean, SloMs: 1000, BudgetPer1kUsd: 5);

        var why = new ExplorerSolver(TwoByTwo()).Solve(settings).Infeasibility!;

        var slo = Assert.Single(why.Binding);
        Assert.Equal(ExplorerConstraint.Slo, slo.Constraint);
        Assert.Equal(100, slo.Gap, 6);
        Assert.Contains("The SLO binds: the fastest point within the budget has a mean e2e of 1,100 ms, 100 ms over the 1,000 ms SLO.", why.Message);
    }

    [Fact]
    public void Solve_TtftSlo_UsesTimeToFirstToken()
    {
        // TTFT: small 100 ms, big 200 ms; a 150 ms mean TTFT allows one prompt on big.
        var result = new ExplorerSolver(TwoByTwo()).Solve(new ExplorerSettings(0, LatencyMetric.Ttft, LatencyStatistic.Mean, SloMs: 150));

        Assert.Equal(0.75, result.Best!.MeanQuality, 9);
        Assert.Equal(150, result.Best.MeanLatencyMs, 6);
    }

    [Fact]
    public void Solve_RatePastTheFleetsCapacity_EveryPointOverloads_AndTheMessageSaysWhatTheFleetServes()
    {
        // Max 4 in flight: small serves 4 / 1.1 s = 3.64 req/s, big 4 / 2.2 s = 1.82 req/s; the fleet about 5.45. (Within 0.2 ms:
        // from c = 2 on a request also waits for the rest of a decode step in progress, which these curves all but hide at
        // c = 16, where the others' prefills outlast a decode phase, R = 1.5; the explorer's line spreads that over 1 … 16.)
        var sample = TwoByTwo(maxConcurrency: 4);

        var result = new ExplorerSolver(sample).Solve(new ExplorerSettings(100, SloMs: 5000));

        Assert.Null(result.Best);
        Assert.All(result.Points, p => Assert.True(p.IsOverloaded));
        Assert.Empty(result.Front);
        Assert.Equal(4 / 1.1 + 4 / 2.2, result.FleetCapacityPerSecond, tolerance: 1e-3);
        var miss = Assert.Single(result.Infeasibility!.Binding);
        Assert.Equal(ExplorerConstraint.Capacity, miss.Constraint);
        Assert.Equal("At 100 requests/s every operating point overloads a deployment: the fleet serves about 5.45 requests/s at these request lengths. Lower the arrival rate or add capacity.", result.Infeasibility.Message);
    }

    [Fact]
    public void Solve_Oracle_PicksTheRealBestPerPrompt()
    {
        var sample = ExplorerSample.Create(
            [
                new(Target(1, "small", 1), new LatencyModel(100, 0, 0, 0, 10, 0, 0), 16),
                new(Target(2, "big", 9), new LatencyModel(200, 0, 0, 0, 20, 0, 0), 16),
            ],
            [
                new(99, [0.5, 0.9], [101, 101], [1, 1]), // a tie: the cheaper (small) wins
                new(99, [0.6, 0.7], [101, 101], [0, 1]),
            ]);

        var oracle = new ExplorerSolver(sample).Solve(new ExplorerSettings(0)).Oracle!;

        Assert.Equal(1.0, oracle.MeanQuality, 9);
        Assert.Equal(0.5, oracle.TrafficShare["small"], 9);
        Assert.Equal(1.0, oracle.CostPer1kUsd, 9);
    }

    [Fact]
    public void Solve_WithoutRealScores_NoOracle() =>
        Assert.Null(new ExplorerSolver(TwoByTwo()).Solve(new ExplorerSettings(0)).Oracle);

    [Fact]
    public void Solve_LivePlan_IsEvaluatedBeside()
    {
        var solver = new ExplorerSolver(TwoByTwo());
        var live = new RoutingPlan(3, "flare", 1, 0.1, 0, solver.Sample.CostScaleUsd, 1650, new Dictionary<string, double>(), new Dictionary<string, double>());

        var point = solver.Solve(new ExplorerSettings(0), live).Live!;

        // w_c = 0.1 on a normalised cost difference of 1.6: prompt 1 (gain 0.4) → big, prompt 2 (gain 0.1) → small.
        Assert.Equal(ExplorerFamily.Live, point.Family);
        Assert.Equal(0.75, point.MeanQuality, 9);
    }

    /// <summary>The load model agrees with RouterWise's rate-latency curve built from the same fit (RateLatencyCurve.FromModel):
    /// exactly at one request in flight and at the profiled concurrency, where its line meets the fitted curve, and within 6 %
    /// between (the curve's half decode step from c = 2 on, which the line spreads over 1 … 8).</summary>
    [Theory]
    [InlineData(LatencyMetric.E2e)]
    [InlineData(LatencyMetric.Ttft)]
    public void RateLatency_AtWholeConcurrencies_MatchesTheRateLatencyCurve(LatencyMetric metric)
    {
        var model = new LatencyModel(40, 0.05, 0.01, 3, 8, 0.4, 0.0004);
        var sample = ExplorerSample.Create([new(Target(1, "d", 1), model, 8)], [new(512, [0.5], [128])]);
        var curve = RateLatencyCurve.FromModel(model, 512, 128, metric, 8);
        var latency = sample.RateLatency(0, metric);
        var solver = new ExplorerSolver(sample);

        for (var c = 1; c <= 8; c++)
        {
            var rate = model.Throughput(512, 128, c).RequestsPerSecond;
            var fixedPoint = solver.Solve(new ExplorerSettings(rate, metric)).Singles[0];
            if (c is 1 or 8)
            {
                Assert.Equal(curve.LatencyMs(rate), latency(rate), 6);
                Assert.Equal(curve.LatencyMs(rate), fixedPoint.MeanLatencyMs, 6);
            }
            else
            {
                Assert.InRange(latency(rate) / curve.LatencyMs(rate), 0.94, 1.06);
                Assert.InRange(fixedPoint.MeanLatencyMs / curve.LatencyMs(rate), 0.94, 1.06);
            }
        }
    }

    [Fact]
    public void Evaluate_GpuPricedDeployment_CostIsGpuTimeShared_AsTheRoutingTargetComputesIt()
    {
        var model = new LatencyModel(40, 0.05, 0.01, 3, 8, 0.4, 0.0004);
        var target = Target(1, "gpu", null, gpuUsdPerHour: 3.6);
        var sample = ExplorerSample.Create([new(target, model, 8)], [new(512, [0.5], [128])]);
        var solver = new ExplorerSolver(sample);

        for (var c = 1; c <= 8; c++)
        {
            var rate = model.Throughput(512, 128, c).RequestsPerSecond;
            var point = solver.Solve(new ExplorerSettings(rate)).Singles[0];
            var expected = target.CostUsd(512, 128, model.E2eMs(512, 128, c) / 1000.0, c) * 1000;
            Assert.Equal(expected, point.CostPer1kUsd, 9);
        }
    }

    [Fact]
    public void Evaluate_AtZeroLoad_MatchesOperatingPointsOnTheSameEstimates()
    {
        var random = new Random(7);
        var models = new[]
        {
            new LatencyModel(30, 0.02, 0, 0, 6, 0, 0), new LatencyModel(90, 0.08, 0, 0, 25, 0, 0),
            new LatencyModel(60, 0.05, 0, 0, 12, 0, 0), new LatencyModel(45, 0.03, 0, 0, 9, 0, 0),
        };
        // Three priced per token and one paid by GPU time (both cost paths); 203 queries, so the vectorised routing has a tail.
        var targets = new[] { Target(1, "a", 0.2), Target(2, "b", 0.9), Target(3, "c", 0.4), Target(4, "d", null, gpuUsdPerHour: 2.5) };
        var queries = Enumerable.Range(0, 203).Select(_ => new ExplorerQueryInput(
            random.Next(10, 2000),
            [random.NextDouble(), random.NextDouble(), random.NextDouble(), random.NextDouble()],
            [random.Next(1, 600), random.Next(1, 600), random.Next(1, 600), random.Next(1, 600)])).ToList();
        var sample = ExplorerSample.Create(targets.Select((t, i) => new ExplorerDeploymentInput(t, models[i], 16)).ToList(), queries);
        var n = queries.Count;
        var flat = new WorkloadSample(["a", "b", "c", "d"],
            sample.Quality,
            Enumerable.Range(0, 4 * n).Select(k => sample.CostUsd(k, 1)).ToArray(),
            Enumerable.Range(0, 4 * n).Select(k => sample.E2eMs(k, 1)).ToArray());
        var plan = new RoutingPlan(0, "flare", 1, 0.3, 0.2, sample.CostScaleUsd, sample.LatencyScaleMs(LatencyMetric.E2e),
            new Dictionary<string, double>(), new Dictionary<string, double> { ["b"] = 0.05 });

        var explorer = new ExplorerSolver(sample).Evaluate(plan, 0, LatencyMetric.E2e);
        var expected = OperatingPoints.Evaluate(flat, plan);

        Assert.Equal(expected.MeanQuality, explorer.MeanQuality, 9);
        Assert.Equal(expected.MeanLatencyMs, explorer.MeanLatencyMs, 6);
        Assert.Equal(expected.P95LatencyMs, explorer.P95LatencyMs, 6);
        Assert.Equal(expected.CostPer1kUsd, explorer.CostPer1kUsd, 9);
        Assert.Equal(expected.TrafficShare.OrderBy(kv => kv.Key), explorer.TrafficShare.OrderBy(kv => kv.Key));
    }

    /// <summary>
    /// Under a mean-latency SLO at a load that binds, the explorer's best point is as good as RouterWise's own solver on the
    /// same curves (all prompts of one shape, so RouterWise's Σ w_i·ℓ_i(λ·w_i) is exactly the explorer's mean latency).
    /// </summary>
    [Fact]
    public void Solve_MeanSloUnderLoad_AsGoodAsRouterWiseSolve()
    {
        var random = new Random(11);
        var models = new[]
        {
            new LatencyModel(300, 0.1, 0.02, 20, 30, 2, 0.001), // big: slow and loaded quickly
            new LatencyModel(60, 0.02, 0.005, 4, 8, 0.3, 0.0002),
            new LatencyModel(80, 0.03, 0.006, 5, 10, 0.4, 0.0003),
        };
        var targets = new[] { Target(1, "big", 0.9), Target(2, "small", 0.2), Target(3, "mid", 0.3) };
        var queries = Enumerable.Range(0, 1000).Select(_ =>
        {
            var hard = random.NextDouble();
            return new ExplorerQueryInput(400, [0.9 - 0.2 * hard, 0.8 - 0.6 * hard, 0.85 - 0.5 * hard], [100, 100, 100]);
        }).ToList();
        var sample = ExplorerSample.Create(targets.Select((t, i) => new ExplorerDeploymentInput(t, models[i], 16)).ToList(), queries);
        const double rate = 4, slo = 4500;
        var problem = new RouterWiseProblem(
            queries.Select(q => q.Quality).ToArray(),
            Enumerable.Range(0, 3).Select(i => sample.RateLatency(i, LatencyMetric.E2e)).ToList(),
            rate, slo);

        var routerWise = RouterWise.Solve(problem);
        var result = new ExplorerSolver(sample).Solve(new ExplorerSettings(rate, LatencyMetric.E2e, LatencyStatistic.Mean, SloMs: slo));

        Assert.True(routerWise.Feasible, routerWise.Reason);
        Assert.True(routerWise.Beta > 0, "the SLO must bind for this test to mean anything");
        Assert.True(result.Best!.MeanLatencyMs <= slo);
        Assert.True(result.Best.MeanQuality >= routerWise.MeanQuality - 0.005, $"{result.Best.MeanQuality} vs RouterWise {routerWise.MeanQuality}");
        var bestRouterWise = result.Points.Where(p => p.Family == ExplorerFamily.RouterWise && ExplorerConstraints.IsFeasible(p, result.Settings)).Max(p => p.MeanQuality);
        Assert.InRange(bestRouterWise, routerWise.MeanQuality - 0.01, routerWise.MeanQuality + 0.01);
    }

    [Fact]
    public void Allocation_TightSloOnOneGpu_RecommendsTheFastModel_LooseSloTheBetterOne()
    {
        var fast = new LatencyModel(50, 0, 0, 0, 5, 0, 0);   // e2e 50 + 99·5 = 545 ms
        var slow = new LatencyModel(200, 0, 0, 0, 20, 0, 0); // 200 + 99·20 = 2,180 ms
        var sample = ExplorerSample.Create(
            [
                new(Target(1, "fast@a100", null, gpuUsdPerHour: 2) with { ModelName = "fast" }, fast, 16, "A100", 1, 7),
                new(Target(2, "slow@a100", null, gpuUsdPerHour: 2) with { ModelName = "slow" }, slow, 16, "A100", 1, 8),
            ],
            Enumerable.Range(0, 50).Select(_ => new ExplorerQueryInput(100, [0.5, 0.9], [100, 100])).ToList());
        PoolGpu[] pool = [new("A100", 80, 1)];

        var tight = ExplorerAllocation.Recommend(sample, pool, new ExplorerSettings(0.1, SloMs: 1000), null)!;
        var loose = ExplorerAllocation.Recommend(sample, pool, new ExplorerSettings(0.1, SloMs: 5000), null)!;

        Assert.Equal([new Placement("fast", "A100", 1), new Placement("slow", "A100", 1)], tight.Current);
        Assert.Equal([new Placement("fast", "A100", 1)], tight.Search.Placements);
        Assert.Equal([new Placement("slow", "A100", 1)], loose.Search.Placements);
        Assert.Equal(1000, tight.SloMs);
    }
}
