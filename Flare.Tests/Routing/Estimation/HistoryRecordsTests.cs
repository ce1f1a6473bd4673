using System.Text;
using Flare.Routing.Estimation;
using Flare.Routing.Estimation.Datasets;
using Flare.Tests.Routing.Profiles;

namespace Flare.Tests.Routing.Estimation;

/// <summary>The streaming reads an import uses: one record at a time, with the line each starts on.</summary>
public sealed class HistoryRecordsTests
{
    private static List<HistoryRecord> Read(string text, HistoryFormat format) =>
        [.. HistoryDatasets.ReadRecords(new MemoryStream(Encoding.UTF8.GetBytes(text)), format, O200kTokenCounter.Shared)];

    [Fact]
    public void LlmRouter_RecordsCarryTheLineTheirElementStartsOn_IssuesKeepThePosition()
    {
        const string json = "[\n  {\"question\": \"a\", \"scores\": {\"m\": 1}},\n  {\"question\": \"b\",\n   \"scores\": {\"m\": 7}},\n  {\"scores\": {\"m\": 0}},\n  {\"question\": \"d\", \"scores\": {\"m\": 0.5}}\n]\n";

        var records = Read(json, HistoryFormat.LlmRouter);

        Assert.Equal([2, 3, 5, 6], records.Select(r => r.Line));
        Assert.Equal("a", records[0].Entry!.Prompt);
        Assert.Null(records[1].Entry); // its only score is outside [0, 1]
        Assert.Contains(records[1].Issues, i => i.Record == 2 && i.Message.Contains("outside [0, 1]"));
        Assert.Null(records[2].Entry);
        Assert.Contains(records[2].Issues, i => i.Record == 3 && i.Message.Contains("question"));
        Assert.Equal([new ModelOutcome("m", 0.5)], records[3].Entry!.Outcomes);
        Assert.All(records, r => Assert.Null(r.Failure));
    }

    [Fact]
    public void LlmRouter_BrokenJsonMidFile_EndsWithAFailureNamingItsLine_AfterTheGoodElements()
    {
        var json = "[\n{\"question\": \"a\", \"scores\": {\"m\": 1}},\n{\"question\": \"b\", \"scores\": {\"m\": 0}},\n{\"question\": \"c\", \"scores\": {\"m\": oops}},\n{\"question\": \"d\", \"scores\": {\"m\": 1}}\n]";

        var records = Read(json, HistoryFormat.LlmRouter);

        Assert.Equal(["a", "b"], records.Where(r => r.Entry is not null).Select(r => r.Entry!.Prompt));
        var failure = records[^1];
        Assert.NotNull(failure.Failure);
        Assert.Equal(4, failure.Line);
        Assert.Contains("line 4", failure.Failure);
        Assert.DoesNotContain("LineNumber", failure.Failure);
    }

    [Fact]
    public void LlmRouter_ElementsLargerThanTheReadBuffer_AndAByteOrderMark_AreRead()
    {
        // Elements of 150 KB each cross the 64 KB buffer several times.
        var big = new string('x', 150_000);
        var json = $"\uFEFF[{{\"question\": \"{big}1\", \"scores\": {{\"m\": 1}}}},\n{{\"question\": \"{big}2\", \"scores\": {{\"m\": 0}}}}]";

        var records = Read(json, HistoryFormat.LlmRouter);

        Assert.Equal(2, records.Count);
        Assert.Equal(big + "1", records[0].Entry!.Prompt);
        Assert.Equal(big + "2", records[1].Entry!.Prompt);
        Assert.Equal([1, 2], records.Select(r => r.Line));
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("{\"question\": \"a\"}", "array")]
    [InlineData("[{\"question\": \"a\", \"scores\": {\"m\": 1}}", "Not JSON at line 1")]
    public void LlmRouter_NotAnArray_Fails(string json, string expected)
    {
        var failure = Assert.Single(Read(json, HistoryFormat.LlmRouter), r => r.Failure is not null);
        Assert.Contains(expected, failure.Failure);
    }

    [Fact]
    public void LlmRouter_Dcrouter_StreamingReadsTheSameRowsAsTheWholeFileParse()
    {
        var path = SharedData.RequireFile("LLMRouter", "data", "dcrouter_preprocessed", "train.json");

        using var file = File.OpenRead(path);
        var streamed = HistoryDatasets.ReadRecords(file, HistoryFormat.LlmRouter).ToList();
        var parsed = HistoryDatasets.Read(path, HistoryFormat.LlmRouter);

        Assert.Equal(5608, streamed.Count);
        Assert.All(streamed, r => Assert.NotNull(r.Entry));
        Assert.Equal(parsed.Entries.Select(e => e.Prompt), streamed.Select(r => r.Entry!.Prompt));
        Assert.Equal(parsed.Entries.SelectMany(e => e.Outcomes), streamed.SelectMany(r => r.Entry!.Outcomes));
        Assert.Equal(9, streamed.SelectMany(r => r.Entry!.Outcomes).Select(o => o.Model).Distinct().Count());
        Assert.True(streamed.Zip(streamed.Skip(1)).All(p => p.First.Line < p.Second.Line), "lines grow");
    }

    [Fact]
    public void Jsonl_RecordsAreLines_WithTheirIds()
    {
        const string jsonl = "{\"id\": \"q1\", \"prompt\": \"a\", \"scores\": {\"m\": 1}}\n\n{\"id\": 7, \"prompt\": \"b\", \"scores\": {\"m\": 0}}\nnot json\n";

        var records = Read(jsonl, HistoryFormat.Jsonl);

        Assert.Equal([1, 3, 4], records.Select(r => r.Line));
        Assert.Equal(["q1", "7", null], records.Select(r => r.ExternalId));
        Assert.Null(records[2].Entry);
        Assert.Contains(records[2].Issues, i => i.Record == 4);
    }

    [Fact]
    public void GenericCsv_OneOutcomePerRow_EmptyScoreIsNotGraded_BadValuesReportedByLine()
    {
        const string csv = """
            id,prompt,model,score,output_tokens,cost_usd
            q1,"Say ""hi"", please",gpt-4o,1,3,0.00004
            q1,"Say ""hi"", please",llama-3-8b,0.5,,
            q2,Count to three,llama-3-8b,,12,
            q3,Bad score,gpt-4o,1.5,,
            q4,,gpt-4o,1,,
            q5,Bad tokens,gpt-4o,0,-3,
            """;

        var records = Read(csv, HistoryFormat.Csv);

        Assert.Equal([2, 3, 4, 5, 6, 7], records.Select(r => r.Line));
        Assert.Equal([new ModelOutcome("gpt-4o", 1, 3, 0.00004)], records[0].Entry!.Outcomes);
        Assert.Equal("Say \"hi\", please", records[1].Entry!.Prompt);
        Assert.Equal([new ModelOutcome("llama-3-8b", null, 12)], records[2].Entry!.Outcomes);
        Assert.Null(records[3].Entry);
        Assert.Contains(records[3].Issues, i => i.Record == 5 && i.Message.Contains("outside [0, 1]"));
        Assert.Null(records[4].Entry);
        Assert.Contains(records[4].Issues, i => i.Message.Contains("empty prompt"));
        Assert.Equal([new ModelOutcome("gpt-4o", 0)], records[5].Entry!.Outcomes);
        Assert.Contains(records[5].Issues, i => i.Record == 7 && i.Message.Contains("output_tokens"));
        Assert.Equal(["q1", "q1", "q2", "q3", "q4", "q5"], records.Select(r => r.ExternalId));
    }

    [Fact]
    public void GenericCsv_MissingRequiredColumn_FailsNamingIt()
    {
        var failure = Assert.Single(Read("prompt,model\nx,m\n", HistoryFormat.Csv));
        Assert.Contains("score", failure.Failure);
        Assert.False(HistoryDatasets.Parse(new StringReader("prompt,model\nx,m\n"), HistoryFormat.Csv).Succeeded);
    }

    [Fact]
    public void RouterBench_SampleIdIsTheExternalId()
    {
        const string csv = "sample_id,prompt,eval_name,m1,m1|model_response,m1|total_cost\nmmlu.7,Q?,mmlu,1,A.,0.1\n";

        var record = Assert.Single(Read(csv, HistoryFormat.RouterBench));

        Assert.Equal("mmlu.7", record.ExternalId);
        Assert.Equal([new ModelOutcome("m1", 1, O200kTokenCounter.Shared.Count("A."), 0.1)], record.Entry!.Outcomes);
    }

    [Fact]
    public void PriceTable_LlmRouterLayout_IsReadAndPricesTokens()
    {
        var path = SharedData.RequireFile("LLMRouter", "data", "example_data", "llm_candidates", "default_llm.json");

        Assert.True(PriceTable.TryParse(File.ReadAllText(path), out var prices, out var error), error);

        var qwen = PriceTable.Find(prices, "QWEN2.5-7B-INSTRUCT");
        Assert.NotNull(qwen);
        Assert.Equal(0.2, qwen.InputPerMTokUsd);
        Assert.Equal((1000 * 0.2 + 500 * 0.2) / 1e6, PriceTable.Cost(qwen, 1000, 500), 12);
        Assert.Null(PriceTable.Find(prices, "no-such-model"));
    }

    [Theory]
    [InlineData("[1, 2]", "object")]
    [InlineData("{\"m\": {\"input_price\": 1}}", "output_price")]
    [InlineData("{\"m\": {\"input_price\": -1, \"output_price\": 1}}", "≥ 0")]
    [InlineData("{", "not JSON")]
    [InlineData("{}", "names no model")]
    public void PriceTable_Malformed_SaysWhy(string json, string expected)
    {
        Assert.False(PriceTable.TryParse(json, out _, out var error));
        Assert.Contains(expected, error);
    }
}
