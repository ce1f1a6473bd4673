using Flare.Routing.Profiles;

namespace Flare.Bench.Explorer;

/// <summary>
/// A workload shaped like the demo fleet's: four 7–9B models on one A100 each and two 49–70B models on two H100s, with
/// latency curves of those sizes and an evaluation set where the large models hold up on hard prompts and the small ones
/// do not. The same numbers feed the in-process solve and, as a profile CSV and a history JSONL, the browser run.
/// </summary>
internal static class DemoWorkload
{
    public static readonly LatencyModel Small = new(25, 0.05, 0.004, 1.5, 11, 0.12, 0.00004);
    public static readonly LatencyModel Large = new(45, 0.08, 0.006, 2.5, 22, 0.25, 0.00008);

    /// <summary>The demo fleet's models: name, large, USD per million tokens (in = out).</summary>
    public static readonly (string Model, bool Large, double UsdPerMTok)[] Models =
    [
        ("qwen2.5-7b-instruct", false, 0.2),
        ("llama-3.1-8b-instruct", false, 0.2),
        ("mistral-7b-instruct-v0.3", false, 0.2),
        ("gemma-2-9b-it", false, 0.1),
        ("llama-3.3-nemotron-super-49b-v1", true, 0.9),
        ("llama3-chatqa-1.5-70b", true, 0.9),
    ];

    public static bool IsLarge(string model) => model.Contains("49b") || model.Contains("70b");

    /// <summary>One prompt: its text, input tokens, and per model (in <see cref="Models"/> order) the score and output tokens.</summary>
    public sealed record Prompt(string Text, int InputTokens, double[] Scores, int[] OutputTokens);

    public static IReadOnlyList<Prompt> Prompts(int count, int seed = 5)
    {
        var random = new Random(seed);
        var topics = new[] { "sorting algorithms", "French grammar", "tax law", "protein folding", "the Roman empire", "SQL joins", "poetry", "orbital mechanics" };
        var prompts = new List<Prompt>(count);
        for (var j = 0; j < count; j++)
        {
            var hard = random.NextDouble();
            var scores = Models.Select(m => Math.Round(Math.Clamp((m.Large ? 0.92 - 0.25 * hard : 0.88 - 0.7 * hard) + 0.1 * (random.NextDouble() - 0.5), 0, 1), 3)).ToArray();
            var tokens = Models.Select(m => (int)((m.Large ? 220 : 160) * (0.5 + hard))).ToArray();
            var text = $"Question {j} ({(hard > 0.6 ? "hard" : "easy")}): explain {topics[j % topics.Length]} in {(int)(3 + 10 * hard)} steps, with an example about item {random.Next(1000)}.";
            prompts.Add(new Prompt(text, 20 + random.Next(0, 1500), scores, tokens));
        }

        return prompts;
    }
}
