using System.Diagnostics;
using Flare.Routing.Optimization;
using Flare.Routing.Routing;

// Synthetic but shaped like a real fleet: 11 deployments whose quality rises with size and varies per
// prompt, cost and latency rising with size. The figures are timings; the data only has to be realistic
// enough that the sweep's work (argmax, sums, a p95 per point) is the real work.
var random = new Random(42);
const int queries = 10_000, deployments = 11;
var names = Enumerable.Range(0, deployments).Select(i => $"d{i}").ToArray();
var q = new double[queries * deployments];
var c = new double[q.Length];
var l = new double[q.Length];
for (var j = 0; j < queries; j++)
{
    var difficulty = random.NextDouble();
    for (var i = 0; i < deployments; i++)
    {
        var size = (i + 1) / (double)deployments;
        q[j * deployments + i] = Math.Clamp(0.3 + 0.6 * size - 0.3 * difficulty * (1 - size) + 0.1 * random.NextDouble(), 0, 1);
        c[j * deployments + i] = 0.0002 + 0.01 * size * size * (0.5 + random.NextDouble());
        l[j * deployments + i] = 200 + 3000 * size * (0.5 + random.NextDouble());
    }
}

var sample = new WorkloadSample(names, q, c, l);
var plans = OperatingPoints.WeightGrid(20, 10, costScaleUsd: 0.005, latencyScaleMs: 1000);
Console.WriteLine($"Pareto sweep: {queries:N0} queries × {deployments} deployments × {plans.Count} operating points, {Environment.ProcessorCount} cores");
OperatingPoints.Sweep(sample, plans); // warm-up (JIT)
var sweepMs = new List<double>();
var frontSize = 0;
for (var run = 0; run < 15; run++)
{
    var sw = Stopwatch.StartNew();
    var (_, front) = OperatingPoints.Sweep(sample, plans);
    sweepMs.Add(sw.Elapsed.TotalMilliseconds);
    frontSize = front.Count;
}

sweepMs.Sort();
Console.WriteLine($"| runs | median ms | min ms | max ms | front points |");
Console.WriteLine($"|---:|---:|---:|---:|---:|");
Console.WriteLine($"| {sweepMs.Count} | {sweepMs[sweepMs.Count / 2]:0.0} | {sweepMs[0]:0.0} | {sweepMs[^1]:0.0} | {frontSize} |");
Console.WriteLine();

// RouterWise's setup search: 4 models on 8 GPUs of two types, 300 prompts.
SetupModel[] models = [new("a-7b", 7), new("b-13b", 13), new("c-34b", 34), new("d-70b", 70.6)];
PoolGpu[] pool = [new("A100-80GB", 80, 4), new("H100-80GB", 80, 4)];
var quality = Enumerable.Range(0, 300).Select(_ => models.Select(m => Math.Min(1, 0.4 + m.ParameterCountBillions / 150 + 0.2 * random.NextDouble())).ToArray()).ToArray();
Func<double, double>? Latency(SetupModel m, PoolGpu g, int k)
{
    var speed = g.GpuType.StartsWith("H100") ? 2.0 : 1.0;
    return r => (10 + 2 * m.ParameterCountBillions) / (k * speed) * (1 + r / (20.0 * k * speed));
}

Console.WriteLine("RouterWise setup search: 4 models, pool of 4 × A100-80GB + 4 × H100-80GB, 300 prompts, λ = 20 req/s, SLO 80 ms");
Console.WriteLine("| run | ms | feasible setups | solved | found | placements |");
Console.WriteLine("|---:|---:|---:|---:|---|---|");
for (var run = 1; run <= 3; run++)
{
    var sw = Stopwatch.StartNew();
    var result = SetupSearch.Solve(new SetupSearchProblem(models, pool, quality, Latency, 20, 80));
    Console.WriteLine($"| {run} | {sw.Elapsed.TotalMilliseconds:0} | {result.FeasibleSetups} | {result.SetupsEvaluated} | {result.Found} | {string.Join(", ", result.Placements.Select(p => $"{p.Model} on {p.Gpus}×{p.GpuType}"))} |");
}

Console.WriteLine();

// One routing decision given estimates: the request path's share of the optimizer.
// Estimates of 1,000 different queries, cycled, so the branch predictor cannot learn one answer.
var estimateRows = Enumerable.Range(0, 1000)
    .Select(j => Enumerable.Range(0, deployments).Select(i => new CandidateEstimate(q[j * deployments + i], 200, c[j * deployments + i], l[j * deployments + i])).ToArray())
    .ToArray();
var plan = plans[37];
var gamma = new double[deployments];
var alpha = new double[deployments];
var sink = 0;
for (var i = 0; i < 1_000_000; i++)
{
    sink += ScoringCore.Argmax(estimateRows[i % 1000], plan, gamma, alpha);
}

const int decisions = 5_000_000;
var timer = Stopwatch.StartNew();
for (var i = 0; i < decisions; i++)
{
    sink += ScoringCore.Argmax(estimateRows[i % 1000], plan, gamma, alpha);
}

Console.WriteLine($"Routing decision over {deployments} candidates (given estimates): {timer.Elapsed.TotalNanoseconds / decisions:0.0} ns mean over {decisions:N0} decisions (plan: w_c = {plan.CostWeight:0.###}, w_l = {plan.LatencyWeight:0.###}; checksum {sink})");
