using System.Globalization;
using System.Text.Json.Nodes;
using Flare.Routing.Profiles;
using Flare.Tests.Support;
using Flare.Web.Hosting;

namespace Flare.Tests.Routing.Profiles;

/// <summary>The <c>fit-profile</c> verb (Flare.Web/Hosting/FitProfileVerb.cs), run in-process without a host.</summary>
public sealed class FitProfileVerbTests
{
    private static async Task<(int Code, string Out, string Error)> Run(string currentDirectory, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await FitProfileVerb.RunAsync(args, stdout, stderr, currentDirectory);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static void WriteGeneric(string path)
    {
        var lines = new List<string> { GenericProfileCsv.Header + ",error" };
        foreach (var s in ProfileFitterTests.Synthetic(11, 0.05, [128, 1024], [64, 256], [1, 8, 32], repeats: 2))
        {
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{s.InputTokens},{s.OutputTokens},{s.Concurrency},{s.TtftMs},{s.TpotMs},{s.E2eMs},false"));
        }

        lines.Add("128,64,8,,,,true");
        lines.Add("128,sixty,8,10,10,700,false");
        File.WriteAllLines(path, lines);
    }

    [Fact]
    public async Task RunAsync_GenericCsvAtRelativePath_PrintsCurvesWithCrossValidatedMape()
    {
        using var dir = new TempDirectory();
        Directory.CreateDirectory(Path.Combine(dir.Path, "in"));
        WriteGeneric(Path.Combine(dir.Path, "in", "profile.csv"));

        var (code, output, error) = await Run(dir.Path, "--csv", "in/profile.csv", "--layout", "generic", "--out", "fit.json", "--slo-ttft-ms", "200");

        Assert.True(code == 0, error);
        var json = JsonNode.Parse(output)!;
        Assert.Equal(Path.Combine(dir.Path, "in", "profile.csv"), (string?)json["source"]!["csv"]);
        foreach (var curve in new[] { "ttft", "tpot", "e2e" })
        {
            var c = json["fit"]!["curves"]![curve]!;
            Assert.InRange((double)c["crossValidatedMape"]!, 0, 0.10);
            Assert.InRange((double)c["rSquared"]!, 0.9, 1);
            Assert.Equal("Good", (string?)c["verdict"]);
        }

        Assert.Equal(1, (int)json["fit"]!["errorSamples"]!);
        Assert.Equal(27, (int)json["import"]!["issues"]![0]!["line"]!); // header + 24 samples + the error row
        Assert.True((double)json["fit"]!["parameters"]!["ttftPerInputTokenMs"]! > 0);
        Assert.NotNull(json["goodput"]!["fitted"]);
        Assert.Equal(output.Trim(), File.ReadAllText(Path.Combine(dir.Path, "fit.json")).Trim());
    }

    [Theory]
    [InlineData("--csv", "x.csv")]
    [InlineData("--csv", "x.csv", "--layout", "excel")]
    [InlineData("--csv", "x.csv", "--layout", "generic", "--model", "m")]
    [InlineData("--csv", "x.csv", "--layout", "llm-inference-bench", "--count", "0")]
    [InlineData("--csv", "x.csv", "--layout", "generic", "--bogus", "1")]
    public async Task RunAsync_BadArguments_ExitCode2WithUsage(params string[] args)
    {
        var (code, _, error) = await Run(Path.GetTempPath(), args);

        Assert.Equal(2, code);
        Assert.Contains("Usage:", error);
    }

    [Fact]
    public async Task RunAsync_MissingFile_ExitCode1NamingTheResolvedPath()
    {
        using var dir = new TempDirectory();

        var (code, _, error) = await Run(dir.Path, "--csv", "nope.csv", "--layout", "generic");

        Assert.Equal(1, code);
        Assert.Contains(Path.Combine(dir.Path, "nope.csv"), error);
    }

    [Fact]
    public async Task RunAsync_BenchFilterMatchingSeveralConfigurations_RefusesAndListsThem()
    {
        var csv = SharedData.RequireFile("LLM-Inference-Bench", "Plots", "All_results.csv");

        var (code, _, error) = await Run(Path.GetTempPath(), "--csv", csv, "--layout", "llm-inference-bench", "--model", "Meta-Llama-3-8B", "--framework", "vLLM", "--hardware", "A100");

        Assert.Equal(1, code);
        Assert.Contains("--count 2", error);
    }

    [Fact]
    public async Task RunAsync_BenchOneConfiguration_UsesTtftFileBesideTheCsv()
    {
        var csv = SharedData.RequireFile("LLM-Inference-Bench", "Plots", "All_results.csv");

        var (code, output, error) = await Run(Path.GetTempPath(), "--csv", csv, "--layout", "llm-inference-bench",
            "--model", "Llama-2-7b-hf", "--hardware", "H100", "--framework", "vLLM", "--count", "1");

        Assert.True(code == 0, error);
        var json = JsonNode.Parse(output)!;
        Assert.EndsWith("all_results_TTFT_ITL.csv", (string?)json["source"]!["ttftCsv"]);
        Assert.Equal(1, (int)json["import"]!["ttftRowsApplied"]!);
        Assert.NotNull(json["fit"]!["curves"]!["e2e"]!["crossValidatedMape"]);
        Assert.Equal("NotValidated", (string?)json["fit"]!["curves"]!["ttft"]!["verdict"]);
    }
}
