using System.Diagnostics;
using Flare.Routing.Estimation;
using Flare.Routing.Optimization;
using Flare.Routing.Profiles;
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

// The live policies behind /v1 (issue 7): each one's decision over the same 11 candidates given their estimates, and
// the whole decision given the prompt's history estimate — per-candidate q̂ and L̂ looked up, ℓ̂ from a fitted profile at
// the deployment's load and ĉ from its prices, then the choice — which is what a routed request adds after the ~1 ms
// prompt estimate. PORT's budgets are large enough never to run out here, so every decision takes the charging path.
var targets = Enumerable.Range(0, deployments).Select(i => new DeploymentTarget(i + 1, names[i], $"m{i}", $"m{i}",
    Flare.Routing.Registry.DeploymentKind.Api, "http://127.0.0.1:9", null, 64, 0.1 + 2 * i, 0.3 + 6 * i, 0)).ToArray();
var states = targets.Select(_ => new DeploymentState()).ToArray();
var liveRows = estimateRows.Select(row => row.Select((e, i) => new Candidate(targets[i], states[i], e)).ToArray()).ToArray();
var prices = new PlanPrices
{
    CostScaleUsd = 0.005, LatencyScaleMs = 1000, StrongModel = "m10", WeakModel = "m0",
    Alpha = names.Select((n, i) => (n, 0.01 * i)).ToDictionary(x => x.n, x => x.Item2),
    Gamma = names.Select((n, i) => (n, 0.001 * i)).ToDictionary(x => x.n, x => x.Item2),
    BudgetsUsd = names.ToDictionary(n => n, _ => 1e12),
};
var parameters = new PlanParameters { QualityWeight = 1, CostWeight = 0.3, LatencyWeight = 0.1, BudgetUsd = 1, Model = "m5" };
var now = new DateTime(2026, 11, 22, 12, 0, 0, DateTimeKind.Utc);
var request = new RoutingRequest("flare", 200, 0, now);
Console.WriteLine();
Console.WriteLine($"Live policies, one decision over {deployments} candidates given their estimates ({decisions:N0} decisions each, after 1,000,000 warm-up):");
Console.WriteLine("| policy | ns per decision | allocated bytes per decision |");
Console.WriteLine("|---|---:|---:|");
foreach (var name in RoutingPolicies.PlanPolicies)
{
    var policy = RoutingPolicies.Create(name, parameters, prices, now);
    for (var i = 0; i < 1_000_000; i++)
    {
        sink += policy.Choose(request, liveRows[i % 1000]);
    }

    var allocated = GC.GetAllocatedBytesForCurrentThread();
    var watch = Stopwatch.StartNew();
    for (var i = 0; i < decisions; i++)
    {
        sink += policy.Choose(request, liveRows[i % 1000]);
    }

    var ns = watch.Elapsed.TotalNanoseconds / decisions;
    Console.WriteLine($"| {name} | {ns:0.0} | {(GC.GetAllocatedBytesForCurrentThread() - allocated) / (double)decisions:0.##} |");
}

// Given the prompt's estimate: fill the 11 candidates' estimates from it and the profiles, then decide.
var curves = new LatencyModel(40, 0.08, 0.002, 6, 9, 0.4, 0.00002);
var good = new CurveFitQuality(100, 0.99, 0.05, 0.05, FitVerdict.Good, null);
var profileSnapshot = new ProfileSnapshot(1, targets.ToDictionary(t => t.Id, t => new DeploymentProfile(t.Id, 1, new ProfileFit(curves, good, good, good, 100, 0, 64), now)));
var promptEstimates = Enumerable.Range(0, 1000).Select(j => new PromptEstimate(200,
    Enumerable.Range(0, deployments).Select(i => new ModelEstimate($"m{i}", q[j * deployments + i], 150 + j % 300, null, new EstimateConfidence(10, 0.8, 0.9), 0.7)).ToArray(),
    40, 0.9)).ToArray();
var flare = RoutingPolicies.Create("flare", parameters, prices, now);
var scratch = new Candidate[deployments];
for (var i = 0; i < deployments; i++)
{
    scratch[i] = new Candidate(targets[i], states[i]);
}

const int estimated = 2_000_000;
for (var i = 0; i < 200_000; i++)
{
    CandidateEstimator.Estimate(scratch, promptEstimates[i % 1000], 200, null, profileSnapshot, EstimationDefaults.Default);
    sink += flare.Choose(request, scratch);
}

var estimatedAllocated = GC.GetAllocatedBytesForCurrentThread();
var estimateTimer = Stopwatch.StartNew();
for (var i = 0; i < estimated; i++)
{
    CandidateEstimator.Estimate(scratch, promptEstimates[i % 1000], 200, null, profileSnapshot, EstimationDefaults.Default);
    sink += flare.Choose(request, scratch);
}

Console.WriteLine();
Console.WriteLine($"Candidate estimates from the prompt's estimate + profiles + prices, then flare's decision, {deployments} candidates: " +
    $"{estimateTimer.Elapsed.TotalNanoseconds / estimated:0.0} ns mean over {estimated:N0} ({(GC.GetAllocatedBytesForCurrentThread() - estimatedAllocated) / (double)estimated:0.##} bytes allocated each; checksum {sink})");
