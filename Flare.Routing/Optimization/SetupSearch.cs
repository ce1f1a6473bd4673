using Flare.Routing.Optimization.OrTools;

namespace Flare.Routing.Optimization;

/// <summary>A kind of GPU and how many the operator has.</summary>
public sealed record PoolGpu(string GpuType, double MemoryGiB, int Count);

/// <summary>A model the setup search may place.</summary>
public sealed record SetupModel(string Name, double ParameterCountBillions);

/// <summary>A model on <paramref name="Gpus"/> GPUs of one type (tensor-parallel degree = <paramref name="Gpus"/>).</summary>
public sealed record Placement(string Model, string GpuType, int Gpus);

/// <summary>
/// RouterWise's setup search (ROUTING.md §2.2): which models to run on which GPUs of the pool, jointly
/// with the routing that gives the best mean quality under the latency SLO.
/// </summary>
/// <param name="Quality">q̂[j][i] per prompt of a workload sample and model (in <see cref="Models"/> order).</param>
/// <param name="Latency">ℓ(rate) in ms for a model on a number of GPUs of a type; null when that placement has no profile.</param>
/// <param name="KvHeadroom">Memory needed = weights at 16 bits × this, for the KV cache and activations. Default 1.2.</param>
public sealed record SetupSearchProblem(
    IReadOnlyList<SetupModel> Models,
    IReadOnlyList<PoolGpu> Pool,
    double[][] Quality,
    Func<SetupModel, PoolGpu, int, Func<double, double>?> Latency,
    double ArrivalRate,
    double SloMs,
    double KvHeadroom = 1.2);

/// <summary>The best setup and its routing, or why none meets the SLO; with how much was searched.</summary>
public sealed record SetupSearchResult(
    IReadOnlyList<Placement> Placements,
    RouterWiseSolution? Routing,
    int FeasibleSetups,
    int SetupsEvaluated,
    string? Reason)
{
    public bool Found => Routing is { Feasible: true };
}

public static class SetupSearch
{
    /// <summary>Tensor-parallel degrees a placement may use.</summary>
    public static readonly IReadOnlyList<int> Degrees = [1, 2, 4, 8];

    /// <summary>
    /// CP-SAT enumerates every placement that fits the pool and each model's memory; only maximal ones are
    /// kept (adding a GPU never makes a model slower, so a setup with room for more is never better). They
    /// are solved with <see cref="RouterWise"/> in order of their quality bound (the mean best quality the
    /// placed models could give), stopping once no remaining bound beats the best feasible setup.
    /// </summary>
    public static SetupSearchResult Solve(SetupSearchProblem problem)
    {
        if (problem.Pool.Sum(g => g.Count) == 0)
        {
            return new SetupSearchResult([], null, 0, 0, "The GPU pool is empty: add GPUs on the GPUs & pool page.");
        }

        var options = Options(problem);
        if (options.All(o => o.Count == 0))
        {
            return new SetupSearchResult([], null, 0, 0,
                "No model fits any GPU type of the pool: each needs its 16-bit weights × " +
                $"{problem.KvHeadroom:0.##} of memory on at most {Degrees[^1]} GPUs of one type, and a latency profile there.");
        }

        var setups = SetupEnumerator.Enumerate(problem, options);
        var maximal = setups.Where(s => IsMaximal(s, options, problem)).ToList();
        var ranked = maximal.Select(s => (Setup: s, Bound: QualityBound(problem, s))).OrderByDescending(x => x.Bound).ToList();

        RouterWiseSolution? best = null;
        int[]? bestSetup = null;
        RouterWiseSolution? closest = null;
        var evaluated = 0;
        foreach (var (setup, bound) in ranked)
        {
            if (best is not null && bound <= best.MeanQuality)
            {
                break;
            }

            var solution = Route(problem, options, setup);
            evaluated++;
            if (solution.Feasible && (best is null || solution.MeanQuality > best.MeanQuality))
            {
                (best, bestSetup) = (solution, setup);
            }
            else if (!solution.Feasible && (closest is null || solution.MeanLatencyMs < closest.MeanLatencyMs))
            {
                closest = solution;
            }
        }

        if (best is null)
        {
            return new SetupSearchResult([], closest, setups.Count, evaluated,
                $"None of the {maximal.Count} setups that fit the pool meets the {problem.SloMs:0.#} ms SLO at {problem.ArrivalRate:0.##} requests/s" +
                (closest?.Reason is { } r ? $"; the closest: {r}" : "."));
        }

        return new SetupSearchResult(Placements(problem, options, bestSetup!), best, setups.Count, evaluated, null);
    }

    /// <summary>Each model's possible placements (GPU type index, GPU count) that fit memory and have a profile.</summary>
    internal static List<List<(int Type, int Gpus)>> Options(SetupSearchProblem problem)
    {
        var result = new List<List<(int, int)>>();
        foreach (var model in problem.Models)
        {
            var needGiB = Registry.RegistryRules.WeightsGiB16Bit(model.ParameterCountBillions) * problem.KvHeadroom;
            var list = new List<(int, int)>();
            for (var t = 0; t < problem.Pool.Count; t++)
            {
                foreach (var k in Degrees)
                {
                    if (k <= problem.Pool[t].Count && k * problem.Pool[t].MemoryGiB >= needGiB && problem.Latency(model, problem.Pool[t], k) is not null)
                    {
                        list.Add((t, k));
                    }
                }
            }

            result.Add(list);
        }

        return result;
    }

    /// <summary>A setup is maximal when no placed model can move to a larger option of its type and no unplaced model can be added.</summary>
    private static bool IsMaximal(int[] setup, List<List<(int Type, int Gpus)>> options, SetupSearchProblem problem)
    {
        var free = problem.Pool.Select(g => g.Count).ToArray();
        for (var m = 0; m < setup.Length; m++)
        {
            if (setup[m] >= 0)
            {
                var (t, k) = options[m][setup[m]];
                free[t] -= k;
            }
        }

        for (var m = 0; m < setup.Length; m++)
        {
            foreach (var (t, k) in options[m])
            {
                var current = setup[m] >= 0 ? options[m][setup[m]] : (Type: t, Gpus: 0);
                var extra = setup[m] >= 0 && current.Type == t ? k - current.Gpus : (setup[m] >= 0 ? int.MaxValue : k);
                if (extra > 0 && extra <= free[t])
                {
                    return false;
                }
            }
        }

        return true;
    }

    private static double QualityBound(SetupSearchProblem problem, int[] setup)
    {
        var placed = Enumerable.Range(0, setup.Length).Where(m => setup[m] >= 0).ToArray();
        return placed.Length == 0 ? 0 : problem.Quality.Average(row => placed.Max(m => row[m]));
    }

    private static RouterWiseSolution Route(SetupSearchProblem problem, List<List<(int Type, int Gpus)>> options, int[] setup)
    {
        var placed = Enumerable.Range(0, setup.Length).Where(m => setup[m] >= 0).ToArray();
        var latency = placed.Select(m =>
        {
            var (t, k) = options[m][setup[m]];
            return problem.Latency(problem.Models[m], problem.Pool[t], k)!;
        }).ToList();
        var quality = problem.Quality.Select(row => placed.Select(m => row[m]).ToArray()).ToArray();
        return RouterWise.Solve(new RouterWiseProblem(quality, latency, problem.ArrivalRate, problem.SloMs));
    }

    private static List<Placement> Placements(SetupSearchProblem problem, List<List<(int Type, int Gpus)>> options, int[] setup) =>
        Enumerable.Range(0, setup.Length).Where(m => setup[m] >= 0)
            .Select(m => new Placement(problem.Models[m].Name, problem.Pool[options[m][setup[m]].Type].GpuType, options[m][setup[m]].Gpus))
            .ToList();
}
