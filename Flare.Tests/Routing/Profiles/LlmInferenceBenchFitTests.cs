using Flare.Routing.Profiles;

namespace Flare.Tests.Routing.Profiles;

/// <summary>Fits on the real LLM-Inference-Bench measurements (skipped when ../shared/data is absent).</summary>
public sealed class LlmInferenceBenchFitTests
{
    private static LlmInferenceBenchImport Import(LlmInferenceBenchFilter filter)
    {
        var allResults = SharedData.RequireFile("LLM-Inference-Bench", "Plots", "All_results.csv");
        var ttft = SharedData.RequireFile("LLM-Inference-Bench", "Plots", "Fig_22", "all_results_TTFT_ITL.csv");
        using var a = File.OpenText(allResults);
        using var t = File.OpenText(ttft);
        return LlmInferenceBenchCsv.Parse(a, t, filter);
    }

    [Fact]
    public void Fit_VllmLlama3On1A100_E2eCrossValidatedWithinTenPercent()
    {
        var bench = Import(new LlmInferenceBenchFilter("Meta-Llama-3-8B", "A100", "vLLM", 1));

        Assert.Single(bench.Configurations);
        Assert.Equal(20, bench.Import.Samples.Count);
        Assert.Equal(1, bench.TtftRowsApplied);
        Assert.Empty(bench.Import.Issues);

        var fit = ProfileFitter.Fit(bench.Import.Samples).Fit!;

        Assert.Equal(20, fit.E2e.Observations);
        Assert.InRange(fit.E2e.CrossValidatedMape!.Value, 0, 0.10);
        Assert.InRange(fit.E2e.RSquared!.Value, 0.95, 1);
        Assert.Equal(FitVerdict.Good, fit.E2e.Verdict);
        // One measured TTFT cannot validate a TTFT curve: it is reported, and flagged.
        Assert.Equal(1, fit.Ttft.Observations);
        Assert.NotNull(fit.Ttft.CrossValidatedMape);
        Assert.Equal(FitVerdict.NotValidated, fit.Ttft.Verdict);
    }

    [Fact]
    public void Parse_WholeFile_NoMalformedRowsAndLlamaCppLeftOut()
    {
        var bench = Import(new LlmInferenceBenchFilter());

        Assert.Empty(bench.Import.Malformed);
        Assert.All(bench.Import.Excluded, i => Assert.Contains("llama.cpp", i.Message));
        Assert.DoesNotContain(bench.Configurations, c => c.Framework == "llama.cpp");
        Assert.InRange(bench.Import.Samples.Count, 3000, 3300);
    }
}
