using Flare.Routing.Optimization;

namespace Flare.Tests.Routing.Optimization;

public sealed class SetupSearchTests
{
    private static readonly SetupModel Small = new("llama-8b", 8);
    private static readonly SetupModel Big = new("llama-70b", 70.6);

    /// <summary>The small model gains nothing over the big one; the big one is slow: ℓ = 100 + 50·rate on 2 GPUs.</summary>
    private static Func<double, double>? Latency(SetupModel model, PoolGpu gpu, int gpus) =>
        model == Big ? r => 200.0 / gpus + 100 * r / gpus : r => 20.0 / gpus + 5 * r / gpus;

    private static SetupSearchProblem Problem(double slo, params PoolGpu[] pool)
    {
        var quality = Enumerable.Range(0, 200).Select(j => new[] { 0.55 + 0.1 * (j % 3), 0.85 + 0.1 * (j % 2) }).ToArray();
        return new SetupSearchProblem([Small, Big], pool, quality, Latency, ArrivalRate: 10, SloMs: slo);
    }

    private static readonly PoolGpu TwoA100 = new("A100-80GB", 80, 2);

    [Fact]
    public void Solve_LooseSlo_BigModelOnBothGpus()
    {
        var result = SetupSearch.Solve(Problem(1000, TwoA100));

        Assert.True(result.Found, result.Reason);
        // 70.6B × 2 bytes × 1.2 = 158 GiB: it needs both 80 GiB GPUs, so nothing else fits beside it.
        Assert.Equal([new Placement("llama-70b", "A100-80GB", 2)], result.Placements);
    }

    [Fact]
    public void Solve_TightSlo_SmallModelMeetsIt()
    {
        var result = SetupSearch.Solve(Problem(100, TwoA100));

        Assert.True(result.Found, result.Reason);
        Assert.Equal([new Placement("llama-8b", "A100-80GB", 2)], result.Placements);
        Assert.True(result.Routing!.MeanLatencyMs <= 100);
    }

    [Fact]
    public void Solve_SloNothingMeets_SaysSo()
    {
        var result = SetupSearch.Solve(Problem(1, TwoA100));

        Assert.False(result.Found);
        Assert.Contains("meets the 1 ms SLO", result.Reason);
    }

    [Fact]
    public void Solve_EmptyPool_SaysWhatToDo()
    {
        var result = SetupSearch.Solve(Problem(1000, new PoolGpu("A100-80GB", 80, 0)));

        Assert.Contains("pool is empty", result.Reason);
    }

    [Fact]
    public void Solve_NothingFits_SaysWhy()
    {
        var result = SetupSearch.Solve(Problem(1000, new PoolGpu("T4-16GB", 16, 1)) with { Models = [Big] , Quality = [[0.9]] });

        Assert.Contains("No model fits", result.Reason);
    }

    [Fact]
    public void Solve_FourModelsOnEightGpusOfTwoTypes_RespectsThePool()
    {
        SetupModel[] models = [new("a-7b", 7), new("b-13b", 13), new("c-34b", 34), new("d-70b", 70.6)];
        PoolGpu[] pool = [new("A100-80GB", 80, 4), new("H100-80GB", 80, 4)];
        var random = new Random(3);
        var quality = Enumerable.Range(0, 150).Select(_ => models.Select(m => Math.Min(1, 0.4 + m.ParameterCountBillions / 150 + 0.2 * random.NextDouble())).ToArray()).ToArray();
        Func<double, double>? Latency(SetupModel m, PoolGpu g, int k)
        {
            var speed = g.GpuType.StartsWith("H100") ? 2.0 : 1.0;
            return r => (10 + 2 * m.ParameterCountBillions) / (k * speed) * (1 + r / (20.0 * k * speed));
        }

        var result = SetupSearch.Solve(new SetupSearchProblem(models, pool, quality, Latency, ArrivalRate: 20, SloMs: 80));

        Assert.True(result.Found, result.Reason);
        foreach (var gpu in pool)
        {
            Assert.True(result.Placements.Where(p => p.GpuType == gpu.GpuType).Sum(p => p.Gpus) <= gpu.Count);
        }

        Assert.True(result.FeasibleSetups > result.SetupsEvaluated, "the bound should spare most setups a full solve");
    }
}
