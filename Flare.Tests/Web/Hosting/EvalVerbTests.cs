using System.Text.Json;
using Flare.Tests.Support;
using Flare.Web.Hosting;

namespace Flare.Tests.Web.Hosting;

public sealed class EvalVerbTests
{
    /// <summary>
    /// Two kinds of prompt: arithmetic, which only the strong (expensive) model gets right, and greetings,
    /// which both get right. A router that tells them apart beats every single model on cost/quality.
    /// </summary>
    private static string Jsonl(int count, int offset)
    {
        var lines = Enumerable.Range(offset, count).Select(k => k % 2 == 0
            ? JsonSerializer.Serialize(new { prompt = $"Compute {k} times {k + 7} plus {k * 3} and explain the arithmetic steps", scores = new Dictionary<string, double> { ["strong"] = 1, ["weak"] = 0 }, cost_usd = new Dictionary<string, double> { ["strong"] = 0.01, ["weak"] = 0.001 } })
            : JsonSerializer.Serialize(new { prompt = $"Hello there friend number {k}, how are you doing today?", scores = new Dictionary<string, double> { ["strong"] = 1, ["weak"] = 1 }, cost_usd = new Dictionary<string, double> { ["strong"] = 0.01, ["weak"] = 0.001 } }));
        return string.Join('\n', lines);
    }

    [Fact]
    public async Task Eval_RoutingBeatsSingleModels_AndPrintsEveryFigure()
    {
        using var dir = new TempDirectory();
        await File.WriteAllTextAsync(Path.Combine(dir.Path, "history.jsonl"), Jsonl(200, 0), TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(Path.Combine(dir.Path, "queries.jsonl"), Jsonl(80, 1000), TestContext.Current.CancellationToken);
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        var exit = await EvalVerb.RunAsync(["--history", "history.jsonl", "--queries", "queries.jsonl", "--format", "jsonl", "--seeds", "3", "--plot", "fronts.html"],
            stdout, stderr, dir.Path);

        Assert.True(exit == 0, stderr.ToString());
        var json = JsonDocument.Parse(stdout.ToString()).RootElement;
        foreach (var key in new[] { "single_models", "oracle", "policies", "aiq_single_models_hull", "oracle_aiq", "cost_fraction_for_95pct_of_best_single", "port", "port_fallback" })
        {
            Assert.True(json.TryGetProperty(key, out _), $"missing {key}");
        }

        var flare = json.GetProperty("policies").GetProperty("flare");
        Assert.True(flare.GetProperty("aiq").GetDouble() > json.GetProperty("aiq_single_models_hull").GetDouble());
        Assert.True(flare.GetProperty("points")[0].GetArrayLength() == 2);
        // The oracle sends greetings to the weak model: full quality at a bit over half the strong model's cost.
        Assert.Equal(1.0, json.GetProperty("oracle").GetProperty("quality").GetDouble(), 9);
        var port = json.GetProperty("port");
        Assert.InRange(port.GetProperty("relative_to_approx_opt").GetDouble(), 0.0, 1.5);
        Assert.Contains("<svg", await File.ReadAllTextAsync(Path.Combine(dir.Path, "fronts.html"), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Eval_MissingArguments_ExitCode2()
    {
        using var stderr = new StringWriter();

        Assert.Equal(2, await EvalVerb.RunAsync(["--history", "x.jsonl"], TextWriter.Null, stderr, "/tmp"));
        Assert.Contains("--queries is required", stderr.ToString());
    }

    [Fact]
    public async Task Eval_NoCostsAndNoPrices_ExplainsWhatIsMissing()
    {
        using var dir = new TempDirectory();
        var line = JsonSerializer.Serialize(new { prompt = "hi", scores = new Dictionary<string, double> { ["a"] = 1, ["b"] = 0 } });
        await File.WriteAllTextAsync(Path.Combine(dir.Path, "h.jsonl"), line, TestContext.Current.CancellationToken);
        using var stderr = new StringWriter();

        var exit = await EvalVerb.RunAsync(["--history", "h.jsonl", "--queries", "h.jsonl", "--format", "jsonl"], TextWriter.Null, stderr, dir.Path);

        Assert.Equal(1, exit);
        Assert.Contains("--prices", stderr.ToString());
    }
}
