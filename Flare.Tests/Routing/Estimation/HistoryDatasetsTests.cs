using Flare.Routing.Estimation;
using Flare.Routing.Estimation.Datasets;

namespace Flare.Tests.Routing.Estimation;

public sealed class HistoryDatasetsTests
{
    [Fact]
    public void LlmRouterJson_ReadsQuestionsAndScores_NullIsMissing_BadValuesReported()
    {
        const string json = """
            [
              {"question": "What is 2+2?", "scores": {"m1": 1.0, "m2": 0.25}, "cluster_id": 0},
              {"question": "Name a prime.", "scores": {"m1": null, "m2": 0}},
              {"question": "Broken", "scores": {"m1": 1.7}},
              {"scores": {"m1": 1}}
            ]
            """;

        var data = HistoryDatasets.Parse(new StringReader(json), HistoryFormat.LlmRouter);

        Assert.True(data.Succeeded);
        Assert.Equal(2, data.Entries.Count);
        Assert.Equal([new ModelOutcome("m1", 1.0), new ModelOutcome("m2", 0.25)], data.Entries[0].Outcomes);
        Assert.Equal([new ModelOutcome("m2", 0)], data.Entries[1].Outcomes);
        Assert.Equal(["m1", "m2"], data.Models);
        Assert.Contains(data.Issues, i => i.Record == 3 && i.Message.Contains("outside [0, 1]"));
        Assert.Contains(data.Issues, i => i.Record == 4 && i.Message.Contains("question"));
    }

    [Fact]
    public void LlmRouterJson_NotAnArray_Fails()
    {
        Assert.False(HistoryDatasets.Parse(new StringReader("{\"question\": 1}"), HistoryFormat.LlmRouter).Succeeded);
        Assert.False(HistoryDatasets.Parse(new StringReader("[{"), HistoryFormat.LlmRouter).Succeeded);
    }

    [Fact]
    public void Jsonl_ReadsScoresLengthsAndCosts_ReportsBadLines()
    {
        const string jsonl = """
            {"prompt": "Say hi", "scores": {"a": 1, "b": 0.5}, "output_tokens": {"a": 3, "c": 7}, "cost_usd": {"a": 0.0001}}

            not json
            {"prompt": "x", "scores": {"a": "high"}}
            {"prompt": "Count to 3", "scores": {"a": null, "b": 1}, "output_tokens": {"b": -1}}
            """;

        var data = HistoryDatasets.Parse(new StringReader(jsonl), HistoryFormat.Jsonl);

        Assert.True(data.Succeeded);
        Assert.Equal(2, data.Entries.Count);
        Assert.Equal(
            [new ModelOutcome("a", 1, 3, 0.0001), new ModelOutcome("b", 0.5), new ModelOutcome("c", null, 7)],
            data.Entries[0].Outcomes);
        Assert.Equal([new ModelOutcome("b", 1)], data.Entries[1].Outcomes);
        Assert.Contains(data.Issues, i => i.Record == 3 && i.Message.Contains("JSON"));
        Assert.Contains(data.Issues, i => i.Record == 4);
        Assert.Contains(data.Issues, i => i.Record == 5 && i.Message.Contains("output_tokens"));
    }

    [Fact]
    public void RouterBenchCsv_PythonListPrompt_EmptyScoreIsMissing_TokensFromResponse_CostsRead()
    {
        // Columns as RouterBench's pandas export writes them; the second response spans lines and holds commas and quotes.
        const string csv = """"
            sample_id,prompt,eval_name,gpt-4,mistral-7b,gpt-4|model_response,mistral-7b|model_response,gpt-4|total_cost,mistral-7b|total_cost,oracle_model_to_route_to
            mmlu.1,"['You are a helpful assistant.', ""What's 2+2?""]",mmlu,1.0,,Four.,,0.0012,,gpt-4
            mbpp.2,Write a function.,mbpp,0,1,"def f():
                return ""a, b""",ok,0.002,0.0001,mistral-7b
            bad.3,Another prompt,x,2.5,,,,,,
            """";

        var data = HistoryDatasets.Parse(new StringReader(csv), HistoryFormat.RouterBench, O200kTokenCounter.Shared);

        Assert.True(data.Succeeded, data.Failure);
        Assert.Equal(["gpt-4", "mistral-7b"], data.Models);
        Assert.Equal(2, data.Entries.Count);
        var first = data.Entries[0];
        Assert.Equal("You are a helpful assistant.\nWhat's 2+2?", first.Prompt);
        Assert.Equal([new ModelOutcome("gpt-4", 1.0, O200kTokenCounter.Shared.Count("Four."), 0.0012)], first.Outcomes); // mistral: empty, not zero
        var second = data.Entries[1];
        Assert.Equal(new ModelOutcome("gpt-4", 0, O200kTokenCounter.Shared.Count("def f():\n    return \"a, b\""), 0.002), second.Outcomes[0]);
        Assert.Equal(new ModelOutcome("mistral-7b", 1, 1, 0.0001), second.Outcomes[1]);
        Assert.Contains(data.Issues, i => i.Record == 5 && i.Message.Contains("outside [0, 1]"));
        Assert.Contains(data.Issues, i => i.Record == 5 && i.Message.Contains("skipped"));
    }

    [Fact]
    public void RouterBenchCsv_NoPromptColumn_Fails()
    {
        var data = HistoryDatasets.Parse(new StringReader("sample_id,question,m\n1,q,1\n"), HistoryFormat.RouterBench, O200kTokenCounter.Shared);

        Assert.False(data.Succeeded);
        Assert.Contains("prompt", data.Failure);
    }

    [Theory]
    [InlineData("['a', 'b']", new[] { "a", "b" })]
    [InlineData("[\"it's\", 'say \\'hi\\'\\n']", new[] { "it's", "say 'hi'\n" })]
    [InlineData("[]", new string[0])]
    [InlineData("['\\u00e9t\\xe9']", new[] { "été" })]
    public void PythonLiteral_StringLists_AreParsed(string text, string[] expected)
    {
        Assert.True(PythonLiteral.TryParseStringList(text, out var items));
        Assert.Equal(expected, items);
    }

    [Theory]
    [InlineData("[1, 2]")]
    [InlineData("[a list] of words")]
    [InlineData("plain prompt")]
    [InlineData("['unterminated]")]
    public void PythonLiteral_OtherText_IsNotAList(string text) => Assert.False(PythonLiteral.TryParseStringList(text, out _));

    [Fact]
    public void Read_MissingFile_FailsWithPath()
    {
        var data = HistoryDatasets.Read("/nonexistent/h.jsonl", HistoryFormat.Jsonl);
        Assert.False(data.Succeeded);
        Assert.Contains("/nonexistent/h.jsonl", data.Failure);
    }
}
