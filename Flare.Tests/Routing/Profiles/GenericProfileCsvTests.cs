using Flare.Routing.Profiles;

namespace Flare.Tests.Routing.Profiles;

public sealed class GenericProfileCsvTests
{
    [Fact]
    public void Parse_ValidRows_SamplesWithDerivedTpotAndE2e()
    {
        const string csv = """
            concurrency,input_tokens,output_tokens,ttft_ms,tpot_ms,e2e_ms,note
            4,512,101,100,,1100,columns in any order
            8,256,11,50,5,,
            """;

        var import = GenericProfileCsv.Parse(new StringReader(csv));

        Assert.Null(import.Failure);
        Assert.Empty(import.Issues);
        Assert.Equal(new ProfileSample(512, 101, 4, 100, 10, 1100), import.Samples[0]);
        Assert.Equal(new ProfileSample(256, 11, 8, 50, 5, 100), import.Samples[1]);
    }

    [Fact]
    public void Parse_MalformedRows_ReportedByLineNumberAndTheRestImported()
    {
        const string csv = """
            input_tokens,output_tokens,concurrency,ttft_ms,tpot_ms,e2e_ms,error
            512,128,1,90,20,2630

            512,x,1,90,20,2630
            512,128,0,90,20,2630
            512,128,2,-5,20,2630
            512,128,2,,,
            512,128,2,,,,true
            512,128,2,300,20,200
            512,128,2,90,20,2630,maybe
            """;

        var import = GenericProfileCsv.Parse(new StringReader(csv));

        Assert.Equal([(4, "output_tokens"), (5, "concurrency"), (6, "ttft_ms"), (7, "No latency"), (9, "below"), (10, "error")],
            import.Malformed.Select(i => (i.LineNumber, i.Message.Split(' ')[0] == "No" ? "No latency" : i.Message.Contains("below") ? "below" : i.Message.Split(' ')[0])));
        Assert.Equal(2, import.Samples.Count);
        Assert.True(import.Samples[1].IsError);
    }

    [Fact]
    public void Parse_MissingRequiredColumn_FailsWithExpectedHeader()
    {
        var import = GenericProfileCsv.Parse(new StringReader("input_tokens,output_tokens,ttft_ms\n1,2,3\n"));

        Assert.Empty(import.Samples);
        Assert.Contains("concurrency", import.Failure);
        Assert.Contains(GenericProfileCsv.Header, import.Failure);
    }

    [Fact]
    public void Parse_QuotedFields_CommasInsideQuotesKept()
    {
        const string csv = "input_tokens,output_tokens,concurrency,e2e_ms,label\n\"1,024\",2,1,30,x\n\"1024\",2,1,30,\"a, b\"\n";

        var import = GenericProfileCsv.Parse(new StringReader(csv));

        Assert.Equal(2, Assert.Single(import.Malformed).LineNumber);
        Assert.Equal(1024, Assert.Single(import.Samples).InputTokens);
    }
}
