using System.Globalization;
using System.Text;
using Flare.Emulator.Profiles;

namespace Flare.Emulator.Calibration;

/// <summary>
/// The <c>calibrate</c> verb: fits every profile's coefficients and KV-cache capacity to the measured vLLM runs
/// of LLM-Inference-Bench, then writes <c>CalibratedProfiles.cs</c> and the calibration report.
/// The data files are read from where they lie; nothing is copied into the repository.
/// </summary>
internal static class Calibrator
{
    private const string SourceCommit = "4211f5d";
    private const double TtftWeight = 4.0;
    private const double PriorWeight = 2.0;
    private const int MinRows = 8;

    private sealed record ModelInfo(string ShortName, double ParametersBillions, int MaxModelLength);

    private sealed record Row(int Length, int Batch, double LatencyMs);

    private sealed record TtftRow(int InputLength, int OutputLength, int Batch, double TtftMs);

    private sealed record Fit(
        EmulatorProfile Profile, IReadOnlyList<(Row Row, double PredictedMs)> Rows,
        IReadOnlyList<(TtftRow Row, double PredictedMs)> Ttft, double? PrefillPrior);

    // vLLM's default max_model_len is the model's context window; without chunked prefill its
    // max_num_batched_tokens defaults to max(max_model_len, 2048), and max_num_seqs to 256.
    private static readonly Dictionary<string, ModelInfo> Models = new()
    {
        ["meta-llama/Llama-2-7b-hf"] = new("llama-2-7b", 6.74, 4096),
        ["meta-llama/Meta-Llama-3-8B"] = new("llama-3-8b", 8.03, 8192),
        ["mistralai/Mistral-7B-v0.1"] = new("mistral-7b", 7.24, 32768),
        ["Qwen/Qwen2-7B"] = new("qwen2-7b", 7.62, 32768),
        ["meta-llama/Llama-2-70b-hf"] = new("llama-2-70b", 68.98, 4096),
        ["meta-llama/Meta-Llama-3-70B"] = new("llama-3-70b", 70.55, 8192),
        ["Qwen/Qwen2-72B"] = new("qwen2-72b", 72.71, 32768),
    };

    private static readonly Dictionary<string, string> Gpus = new()
    {
        ["Nvidia A100 GPU"] = "a100",
        ["Nvidia H100 GPU"] = "h100",
    };

    public static int Run(string[] args)
    {
        string? data = null, code = null, doc = null;
        for (var i = 0; i < args.Length - 1; i++)
        {
            switch (args[i])
            {
                case "--data": data = args[++i]; break;
                case "--code": code = args[++i]; break;
                case "--doc": doc = args[++i]; break;
            }
        }

        if (data is null || code is null || doc is null)
        {
            Console.Error.WriteLine("usage: calibrate --data <shared/data folder> --code <CalibratedProfiles.cs> --doc <emulator-calibration.md>");
            return 2;
        }

        var allResults = Path.Combine(data, "LLM-Inference-Bench", "Plots", "All_results.csv");
        var ttftFile = Path.Combine(data, "LLM-Inference-Bench", "Plots", "Fig_22", "all_results_TTFT_ITL.csv");
        var lengthsFile = Path.Combine(data, "AzurePublicDataset", "data", "AzureLLMInferenceTrace_conv.csv");
        foreach (var f in new[] { allResults, ttftFile, lengthsFile })
        {
            if (!File.Exists(f))
            {
                Console.Error.WriteLine($"calibrate: {f} is missing (the shared data folder is needed to calibrate).");
                return 1;
            }
        }

        var groups = ReadResults(allResults);
        var ttft = ReadTtft(ttftFile);
        var (logMean, logStd, lengthCount) = FitLengths(lengthsFile);

        // Pass 1: profiles with a measured TTFT pin the prefill cost per token; pass 2 uses it, scaled by
        // model size / GPU count, as a weak prior where only batch latencies exist.
        var fits = new Dictionary<(string Model, string Gpu, int Count), Fit>();
        foreach (var (key, rows) in groups.Where(g => ttft.ContainsKey(g.Key)))
        {
            fits[key] = FitGroup(key, rows, ttft[key], null, logMean, logStd);
        }

        var perGpu = fits.Values.GroupBy(f => f.Profile.GpuType).ToDictionary(
            g => g.Key, g => g.Average(f => f.Profile.PrefillPerTokenMs * f.Profile.GpuCount / f.Profile.ParametersBillions));
        foreach (var (key, rows) in groups.Where(g => !ttft.ContainsKey(g.Key)))
        {
            var info = Models[key.Model];
            double? prior = perGpu.TryGetValue(Gpus[key.Gpu], out var k) ? k * info.ParametersBillions / key.Count : null;
            fits[key] = FitGroup(key, rows, [], prior, logMean, logStd);
        }

        var ordered = fits.Values.OrderBy(f => f.Profile.ParametersBillions > 20).ThenBy(f => f.Profile.Name, StringComparer.Ordinal).ToList();
        File.WriteAllText(code, RenderCode(ordered, logMean, logStd, lengthCount));
        File.WriteAllText(doc, RenderDoc(ordered, logMean, logStd, lengthCount));
        foreach (var f in ordered)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{f.Profile.Name,-20} rows {f.Rows.Count,2}  MAPE {f.Profile.CalibrationMape:P1}  KV {f.Profile.KvCacheTokens,8}"));
        }

        Console.WriteLine($"wrote {code} and {doc}");
        return 0;
    }

    private static Dictionary<(string Model, string Gpu, int Count), List<Row>> ReadResults(string path)
    {
        var groups = new Dictionary<(string, string, int), List<Row>>();
        foreach (var line in File.ReadLines(path).Skip(1))
        {
            var c = line.Split(',');
            if (c.Length < 8 || c[2].Trim() != "vLLM" || !Gpus.ContainsKey(c[0].Trim()) || !Models.ContainsKey(c[3].Trim()))
            {
                continue;
            }

            var key = (c[3].Trim(), c[0].Trim(), int.Parse(c[1], CultureInfo.InvariantCulture));
            if (!groups.TryGetValue(key, out var rows))
            {
                groups[key] = rows = [];
            }

            rows.Add(new Row(
                int.Parse(c[4], CultureInfo.InvariantCulture), int.Parse(c[5], CultureInfo.InvariantCulture),
                double.Parse(c[6], CultureInfo.InvariantCulture) * 1000));
        }

        return groups.Where(g => g.Value.Count >= MinRows).ToDictionary(g => g.Key, g => g.Value);
    }

    private static Dictionary<(string Model, string Gpu, int Count), List<TtftRow>> ReadTtft(string path)
    {
        var result = new Dictionary<(string, string, int), List<TtftRow>>();
        foreach (var line in File.ReadLines(path).Skip(1))
        {
            var c = line.Split(',');
            if (c.Length < 8 || c[2].Trim() != "vLLM" || !Gpus.ContainsKey(c[0].Trim()) || !Models.ContainsKey(c[3].Trim()))
            {
                continue;
            }

            // The file labels the output length 1, but its end_latency equals All_results' latency of the
            // run with output = input (1024), so the TTFT is taken from that run: input = output = 1024.
            var input = int.Parse(c[4], CultureInfo.InvariantCulture);
            var key = (c[3].Trim(), c[0].Trim(), int.Parse(c[1], CultureInfo.InvariantCulture));
            if (!result.TryGetValue(key, out var rows))
            {
                result[key] = rows = [];
            }

            rows.Add(new TtftRow(input, input, int.Parse(c[6], CultureInfo.InvariantCulture),
                double.Parse(c[7], CultureInfo.InvariantCulture) * 1000));
        }

        return result;
    }

    private static (double LogMean, double LogStd, int Count) FitLengths(string path)
    {
        var logs = File.ReadLines(path).Skip(1)
            .Select(l => int.Parse(l.Split(',')[2], CultureInfo.InvariantCulture))
            .Where(n => n > 0)
            .Select(n => Math.Log(n))
            .ToList();
        var mean = logs.Average();
        var std = Math.Sqrt(logs.Sum(x => (x - mean) * (x - mean)) / logs.Count);
        return (mean, std, logs.Count);
    }

    private static Fit FitGroup(
        (string Model, string Gpu, int Count) key, List<Row> rows, List<TtftRow> ttft, double? prefillPrior,
        double logMean, double logStd)
    {
        var info = Models[key.Model];
        var gpu = Gpus[key.Gpu];
        var name = $"{info.ShortName}@{gpu}x{key.Count}";
        EmulatorProfile Limits(long kv) => new(
            name, key.Model, info.ParametersBillions, gpu, key.Count, info.MaxModelLength,
            Math.Max(info.MaxModelLength, 2048), 256, kv, 0, 0, 0, 0, 0, logMean, logStd, 0, rows.Count);

        (double Objective, double[] Theta, long Kv)? best = null;
        const int GridPoints = 64;
        const double MaxKv = 4_194_304;
        for (var g = 0; g < GridPoints; g++)
        {
            var kv = (long)Math.Round(info.MaxModelLength * Math.Pow(MaxKv / info.MaxModelLength, g / (GridPoints - 1.0)) / 16) * 16;
            var limits = Limits(kv);
            var a = new List<double[]>();
            var y = new List<double>();
            foreach (var r in rows)
            {
                var f = StepFeatures.SimulateBurst(limits, r.Batch, r.Length, r.Length).Batch;
                a.Add(Enumerable.Range(0, StepFeatures.Count).Select(i => f[i] / r.LatencyMs).ToArray());
                y.Add(1);
            }

            foreach (var t in ttft)
            {
                var f = StepFeatures.SimulateBurst(limits, t.Batch, t.InputLength, t.OutputLength).MeanFirstToken;
                var w = Math.Sqrt(TtftWeight);
                a.Add(Enumerable.Range(0, StepFeatures.Count).Select(i => w * f[i] / t.TtftMs).ToArray());
                y.Add(w);
            }

            if (prefillPrior is { } prior)
            {
                var w = Math.Sqrt(PriorWeight);
                a.Add([0, w / prior, 0, 0, 0]);
                y.Add(w);
            }

            var theta = NonNegativeLeastSquares.Solve(a, y);
            var objective = a.Select((row, i) => Math.Pow(row.Select((x, j) => x * theta[j]).Sum() - y[i], 2)).Sum();
            if (best is null || objective < best.Value.Objective - 1e-12)
            {
                best = (objective, theta, kv);
            }
        }

        var (_, th, bestKv) = best!.Value;
        var fitted = Limits(bestKv) with
        {
            PrefillBaseMs = th[0],
            PrefillPerTokenMs = th[1],
            DecodeBaseMs = th[2],
            DecodePerSequenceMs = th[3],
            DecodePerContextTokenMs = th[4],
        };
        var predicted = rows
            .Select(r => (r, StepFeatures.SimulateBurst(fitted, r.Batch, r.Length, r.Length).Batch.Dot(th)))
            .ToList();
        var ttftPredicted = ttft
            .Select(t => (t, StepFeatures.SimulateBurst(fitted, t.Batch, t.InputLength, t.OutputLength).MeanFirstToken.Dot(th)))
            .ToList();
        var mape = predicted.Average(p => Math.Abs(p.Item2 - p.r.LatencyMs) / p.r.LatencyMs);
        return new Fit(fitted with { CalibrationMape = mape }, predicted, ttftPredicted, prefillPrior);
    }

    private static string F(double x, string format = "G6") => x.ToString(format, CultureInfo.InvariantCulture);

    private static string RenderCode(IReadOnlyList<Fit> fits, double logMean, double logStd, int lengthCount)
    {
        var sb = new StringBuilder();
        sb.AppendLine("// <auto-generated>");
        sb.AppendLine("// Written by `dotnet run --project Flare.Emulator -- calibrate` (Flare.Emulator/Calibration/Calibrator.cs); do not edit.");
        sb.AppendLine($"// Source: argonne-lcf/LLM-Inference-Bench @ {SourceCommit} (BSD-3-Clause, arXiv 2411.00136):");
        sb.AppendLine("//   Plots/All_results.csv, rows with Framework = vLLM on Nvidia A100/H100 GPU (llama.cpp and other frameworks left out),");
        sb.AppendLine("//   Latency = seconds for Batch Size requests of input = output = Input Output Length tokens;");
        sb.AppendLine("//   Plots/Fig_22/all_results_TTFT_ITL.csv, vLLM TTFT at input 1024, batch 16.");
        sb.AppendLine($"// Output lengths: lognormal fitted to GeneratedTokens of AzurePublicDataset AzureLLMInferenceTrace_conv.csv @ b469a11 ({lengthCount} requests).");
        sb.AppendLine("// </auto-generated>");
        sb.AppendLine();
        sb.AppendLine("namespace Flare.Emulator.Profiles;");
        sb.AppendLine();
        sb.AppendLine("internal static class CalibratedProfiles");
        sb.AppendLine("{");
        sb.AppendLine("    public static readonly EmulatorProfile[] Table =");
        sb.AppendLine("    [");
        foreach (var f in fits)
        {
            var p = f.Profile;
            sb.AppendLine(
                $"        new(\"{p.Name}\", \"{p.ModelId}\", {F(p.ParametersBillions)}, \"{p.GpuType}\", {p.GpuCount}, " +
                $"MaxModelLength: {p.MaxModelLength}, MaxBatchedTokens: {p.MaxBatchedTokens}, MaxNumSeqs: {p.MaxNumSeqs}, KvCacheTokens: {p.KvCacheTokens}, " +
                $"PrefillBaseMs: {F(p.PrefillBaseMs)}, PrefillPerTokenMs: {F(p.PrefillPerTokenMs)}, DecodeBaseMs: {F(p.DecodeBaseMs)}, " +
                $"DecodePerSequenceMs: {F(p.DecodePerSequenceMs)}, DecodePerContextTokenMs: {F(p.DecodePerContextTokenMs)}, " +
                $"OutputLogMean: {F(logMean)}, OutputLogStdDev: {F(logStd)}, CalibrationMape: {F(p.CalibrationMape, "F4")}, CalibrationRows: {p.CalibrationRows}),");
        }

        sb.AppendLine("    ];");
        sb.AppendLine("}");
        return sb.ToString();
    }

    private static string RenderDoc(IReadOnlyList<Fit> fits, double logMean, double logStd, int lengthCount)
    {
        var sb = new StringBuilder();
        sb.AppendLine("# LLM emulator calibration");
        sb.AppendLine();
        sb.AppendLine("Generated by `dotnet run --project Flare.Emulator -- calibrate --data \"$PWD/../shared/data\" --code \"$PWD/Flare.Emulator/Profiles/CalibratedProfiles.cs\" --doc \"$PWD/docs/emulator-calibration.md\"`, run from the repository root (`dotnet run` starts the program in the project folder, hence absolute paths). Do not edit by hand.");
        sb.AppendLine();
        sb.AppendLine("## Source");
        sb.AppendLine();
        sb.AppendLine($"- argonne-lcf/LLM-Inference-Bench @ {SourceCommit} (BSD-3-Clause; arXiv 2411.00136), `Plots/All_results.csv`: rows with `Framework = vLLM` on `Nvidia A100 GPU` / `Nvidia H100 GPU` for the models below; groups (model, GPU, count) with at least {MinRows} rows. llama.cpp and the other frameworks are left out. `Latency` is the time for the whole batch of `Batch Size` requests, each with input = output = `Input Output Length` tokens.");
        sb.AppendLine("- Same repository, `Plots/Fig_22/all_results_TTFT_ITL.csv`: vLLM TTFT at input 1024, batch 16 (7–8B models, one A100 or H100). The file labels the output length 1, but its `end_latency` equals the All_results latency of the input = output = 1024 run, so the TTFT is matched to that run's simulated mean TTFT.");
        sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"- Output lengths (when not forced): lognormal with ln-mean {logMean:F3} and ln-sd {logStd:F3}, fitted to the `GeneratedTokens` of Azure/AzurePublicDataset @ b469a11 `AzureLLMInferenceTrace_conv.csv` ({lengthCount} requests)."));
        sb.AppendLine("- The data files are read in place; none is copied into this repository.");
        sb.AppendLine();
        sb.AppendLine("## Model");
        sb.AppendLine();
        sb.AppendLine("The emulator runs vLLM's continuous-batching policy (no chunked prefill) step by step (`Engine/BatchScheduler.cs`):");
        sb.AppendLine();
        sb.AppendLine("- a **prefill step** admits waiting requests first-come-first-served while the prompt tokens stay within `max_num_batched_tokens` (= the model's context window, vLLM's default without chunked prefill), the running sequences within `max_num_seqs` = 256, and the KV cache within its capacity *K*; it lasts `a + b·(prompt tokens in the step)` and yields each admitted request's first token;");
        sb.AppendLine("- otherwise a **decode step** gives each of the *n* running sequences one token and lasts `c + d·n + e·(context tokens held by the n sequences)`;");
        sb.AppendLine("- an admitted request reserves prompt + output tokens of *K* until it finishes; requests that do not fit wait.");
        sb.AppendLine();
        sb.AppendLine("Why this form: a prefill is compute-bound, so its time grows with the tokens processed; a decode step is bound by reading the weights once (`c`), plus per-sequence work (`d`: sampling, the batch's share of the matmuls) and attention over the KV cache, which grows with the context held (`e`). Past the KV capacity vLLM can no longer grow the batch, which is why the measured throughput flattens (e.g. Llama-2-7B on one A100 at 1024–2048 tokens); *K* reproduces that plateau. Prefills go first, as in vLLM's scheduler.");
        sb.AppendLine();
        sb.AppendLine("Fit: for each *K* on a geometric grid (64 points from the context window to 4M tokens) the scheduler is run in virtual time on each measured configuration (*Batch Size* requests arriving together). Scheduling never depends on durations, so the batch latency is linear in (a, b, c, d, e) with the step counts and token sums as features; they are fitted by non-negative least squares on relative error, with the TTFT row (weight 4) where Fig_22 has one. For profiles without a TTFT row, a weak prior (weight 2) sets b near the per-token prefill cost of the same GPU type's TTFT-calibrated profiles, scaled by parameters / GPU count. The *K* with the smallest weighted error wins. MAPE is the mean |simulated − measured| / measured batch latency over the profile's rows.");
        sb.AppendLine();
        sb.AppendLine("## Profiles");
        sb.AppendLine();
        sb.AppendLine("| profile | model | rows | MAPE | max APE | K (tokens) | a ms | b ms/token | c ms | d ms/seq | e ms/token | TTFT measured → simulated |");
        sb.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        foreach (var f in fits)
        {
            var p = f.Profile;
            var maxApe = f.Rows.Max(r => Math.Abs(r.PredictedMs - r.Row.LatencyMs) / r.Row.LatencyMs);
            var ttft = f.Ttft.Count == 0
                ? (f.PrefillPrior is { } prior ? $"none (prior b = {F(prior, "G3")})" : "none")
                : string.Join("; ", f.Ttft.Select(t => $"{F(t.Row.TtftMs, "F0")} → {F(t.PredictedMs, "F0")} ms"));
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| `{p.Name}` | {p.ModelId} | {f.Rows.Count} | {p.CalibrationMape:P1} | {maxApe:P1} | {p.KvCacheTokens} | {p.PrefillBaseMs:G4} | {p.PrefillPerTokenMs:G4} | {p.DecodeBaseMs:G4} | {p.DecodePerSequenceMs:G4} | {p.DecodePerContextTokenMs:G4} | {ttft} |"));
        }

        sb.AppendLine();
        sb.AppendLine("## Rows");
        sb.AppendLine();
        sb.AppendLine("Measured and simulated batch latency (seconds) per configuration (input = output length × batch).");
        foreach (var f in fits)
        {
            sb.AppendLine();
            sb.AppendLine($"### `{f.Profile.Name}`");
            sb.AppendLine();
            sb.AppendLine("| length | batch | measured s | simulated s | error |");
            sb.AppendLine("|---:|---:|---:|---:|---:|");
            foreach (var (row, predicted) in f.Rows.OrderBy(r => r.Row.Length).ThenBy(r => r.Row.Batch))
            {
                sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {row.Length} | {row.Batch} | {row.LatencyMs / 1000:F2} | {predicted / 1000:F2} | {(predicted - row.LatencyMs) / row.LatencyMs:+0.0%;-0.0%} |"));
            }
        }

        return sb.ToString();
    }
}
