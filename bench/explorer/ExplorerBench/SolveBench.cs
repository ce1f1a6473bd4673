using System.Diagnostics;
using Flare.Routing.Optimization;
using Flare.Routing.Profiles;
using Flare.Routing.Registry;
using Flare.Routing.Routing;

namespace Flare.Bench.Explorer;

/// <summary>The server side of a slider move, in process: <see cref="ExplorerSolver.Solve"/> on a 5,000-query sample of the demo fleet.</summary>
internal static class SolveBench
{
    public static int Run(int queries)
    {
        var prompts = DemoWorkload.Prompts(queries);
        var deployments = DemoWorkload.Models.Select((m, i) => new ExplorerDeploymentInput(
            new DeploymentTarget(i + 1, m.Model + (m.Large ? "@h100x2" : "@a100"), m.Model, m.Model, DeploymentKind.Emulated, "http://x/v1", null, 256, m.UsdPerMTok, m.UsdPerMTok, m.Large ? 5.98 : 1.79),
            m.Large ? DemoWorkload.Large : DemoWorkload.Small, 16, m.Large ? "H100-80GB" : "A100-80GB", m.Large ? 2 : 1, m.Large ? 60 : 8)).ToList();
        var watch = Stopwatch.StartNew();
        // q̂ as the estimator would give it for a prompt in the history: close to its real score.
        var sample = ExplorerSample.Create(deployments, prompts.Select(p => new ExplorerQueryInput(
            p.InputTokens, p.Scores, p.OutputTokens.Select(t => (double)t).ToArray(), p.Scores)).ToList());
        var createMs = watch.Elapsed.TotalMilliseconds;
        var solver = new ExplorerSolver(sample);
        Console.WriteLine($"Explorer solve: {sample.Queries:N0} queries × {sample.Deployments.Count} deployments (demo fleet shapes), {Environment.ProcessorCount} cores; sample built in {createMs:0} ms; fleet capacity {sample.FleetCapacityPerSecond:0} req/s");
        Console.WriteLine();

        // JIT and a first grid, as when the page opens.
        var loose = solver.Solve(new ExplorerSettings(1));
        var slowest = loose.Singles.Max(p => p.MeanLatencyMs);
        var fastest = loose.Singles.Min(p => p.MeanLatencyMs);

        // A new arrival rate (or latency metric): the candidate grid is built for it, then the constraints are applied.
        var cold = new List<double>();
        var points = 0;
        for (var k = 1; k <= 24; k++)
        {
            var settings = new ExplorerSettings(1 + 0.75 * k, LatencyMetric.E2e, LatencyStatistic.Mean, SloMs: (fastest + slowest) / 2, BudgetPer1kUsd: 0.15);
            watch.Restart();
            var result = solver.Solve(settings);
            cold.Add(watch.Elapsed.TotalMilliseconds);
            points = result.Points.Count;
        }

        // The SLO, budget and quality sliders at a rate already solved: filter and refine.
        var warm = new List<double>();
        var infeasible = 0;
        for (var k = 0; k < 60; k++)
        {
            var slo = fastest * 0.8 + (slowest * 1.2 - fastest * 0.8) * k / 59.0;
            var settings = new ExplorerSettings(10, LatencyMetric.E2e, k % 2 == 0 ? LatencyStatistic.Mean : LatencyStatistic.P95, slo, 0.05 + 0.003 * k, k % 3 == 0 ? 0.6 : null);
            watch.Restart();
            var result = solver.Solve(settings);
            warm.Add(watch.Elapsed.TotalMilliseconds);
            infeasible += result.Best is null ? 1 : 0;
        }

        Console.WriteLine("| slider move | solves | median ms | p95 ms | max ms | points per solve |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        Row("arrival rate (new grid: FLARE 11×11, RouterWise 16 β, refinement)", cold, points);
        Row($"SLO / budget / quality at a solved rate ({infeasible} of {warm.Count} infeasible, with the binding message)", warm, points);
        Console.WriteLine();

        // The GPU allocation advice runs off the slider path, after the sliders rest.
        watch.Restart();
        var advice = ExplorerAllocation.Recommend(sample, [new PoolGpu("A100-80GB", 80, 4), new PoolGpu("H100-80GB", 80, 4)],
            new ExplorerSettings(10, SloMs: (fastest + slowest) / 2), null);
        Console.WriteLine($"GPU allocation advice (RouterWise setup search, 300 prompts, pool 4 × A100 + 4 × H100, off the slider path): {watch.Elapsed.TotalMilliseconds:0} ms, " +
                          $"{advice!.Search.FeasibleSetups} setups fit, {advice.Search.SetupsEvaluated} solved, found: {advice.Search.Found}");
        return 0;
    }

    private static void Row(string what, List<double> ms, int points)
    {
        var sorted = ms.Order().ToList();
        var p95 = sorted[Math.Clamp((int)Math.Ceiling(0.95 * sorted.Count) - 1, 0, sorted.Count - 1)];
        Console.WriteLine($"| {what} | {sorted.Count} | {sorted[sorted.Count / 2]:0.0} | {p95:0.0} | {sorted[^1]:0.0} | {points} |");
    }
}
