using Flare.Routing.Profiles;

namespace Flare.Tests.Routing.Profiles;

public sealed class LlmInferenceBenchCsvTests
{
    private const string AllResults = """
        Hardware,Num of Hardware,Framework,Model,Input Output Length,Batch Size,Latency,Throughput
        Nvidia A100 GPU,1,vLLM,meta-llama/Meta-Llama-3-8B,128,1,1.8262675674632192,140.17661188365588
        Nvidia A100 GPU,1,vLLM,meta-llama/Meta-Llama-3-8B,1024,16,19.914405192248523,1645.442064860396
        Nvidia A100 GPU,2,vLLM,meta-llama/Meta-Llama-3-8B,128,1,1.2,213.3333
        Nvidia H100 GPU,1,vLLM,meta-llama/Meta-Llama-3-8B,128,1,1.0,256
        Nvidia A100 GPU,1,llama.cpp,meta-llama/Meta-Llama-3-8B,128,1,5.0,25.6
        Nvidia A100 GPU,1,vLLM,meta-llama/Meta-Llama-3-8B,256,1,3.67,500
        Nvidia A100 GPU,1,vLLM,meta-llama/Meta-Llama-3-8B,512,one,7.38,138.6
        Nvidia A100 GPU,1,vLLM
        """;

    private const string Ttft = """
        Hardware,Num of Hardware,Framework,Model,Input Length,Output Length,Batch Size,TTFT Latency,end_latency 

        Nvidia A100 GPU,1,vLLM,meta-llama/Meta-Llama-3-8B,1024,1,16,1.0420479719759896,19.914405192248523
        Nvidia H100 GPU,1,vLLM,meta-llama/Meta-Llama-3-8B,1024,1,16,0.42566500790417194,11.024687729899984
        """;

    private static readonly LlmInferenceBenchFilter Llama3OnOneA100 = new("Meta-Llama-3-8B", "A100", "vllm", 1);

    [Fact]
    public void Parse_FilteredConfiguration_OneSamplePerRunInMilliseconds()
    {
        var bench = LlmInferenceBenchCsv.Parse(new StringReader(AllResults), null, Llama3OnOneA100);

        Assert.Equal([new LlmInferenceBenchConfiguration("meta-llama/Meta-Llama-3-8B", "Nvidia A100 GPU", "vLLM", 1)], bench.Configurations);
        Assert.Equal(2, bench.Import.Samples.Count);
        var run = bench.Import.Samples[1];
        Assert.Equal((1024, 1024, 16.0), (run.InputTokens, run.OutputTokens, run.Concurrency));
        Assert.Equal(19914.405192248523, run.E2eMs!.Value, 6);
        Assert.Null(run.TtftMs);
        Assert.Null(run.TpotMs);
    }

    [Fact]
    public void Parse_WithTtftFile_TtftAndDerivedTpotOnTheMatchingRun()
    {
        var bench = LlmInferenceBenchCsv.Parse(new StringReader(AllResults), new StringReader(Ttft), Llama3OnOneA100);

        Assert.Equal(1, bench.TtftRowsApplied);
        var run = bench.Import.Samples.Single(s => s.TtftMs is not null);
        Assert.Equal(1042.0479719759896, run.TtftMs!.Value, 6);
        Assert.Equal((19914.405192248523 - 1042.0479719759896) / 1023, run.TpotMs!.Value, 6);
    }

    [Fact]
    public void Parse_LlamaCppAndInconsistentThroughput_ExcludedWithLineNumbers()
    {
        var bench = LlmInferenceBenchCsv.Parse(new StringReader(AllResults), null, Llama3OnOneA100 with { Framework = null });

        Assert.Equal([6, 7], bench.Import.Excluded.Select(i => i.LineNumber));
        Assert.Contains("llama.cpp", bench.Import.Excluded.First().Message);
        Assert.Contains("disagrees", bench.Import.Excluded.Last().Message);
    }

    [Fact]
    public void Parse_MalformedRows_ReportedWhateverTheFilter()
    {
        var bench = LlmInferenceBenchCsv.Parse(new StringReader(AllResults), null, new LlmInferenceBenchFilter(Model: "no-such-model"));

        Assert.Empty(bench.Import.Samples);
        Assert.Equal([8, 9], bench.Import.Malformed.Select(i => i.LineNumber));
        Assert.Contains("Batch Size 'one'", bench.Import.Malformed.First().Message);
    }

    [Fact]
    public void Parse_LooseFilter_ListsEveryConfiguration()
    {
        var bench = LlmInferenceBenchCsv.Parse(new StringReader(AllResults), null, new LlmInferenceBenchFilter(Framework: "vLLM"));

        Assert.Equal(3, bench.Configurations.Count);
    }

    [Fact]
    public void Parse_WrongHeader_FailsNamingTheMissingColumns()
    {
        var bench = LlmInferenceBenchCsv.Parse(new StringReader("Hardware,Model\nx,y\n"), null, new LlmInferenceBenchFilter());

        Assert.Contains("Latency", bench.Import.Failure);
    }
}
