using System.Globalization;
using Flare.Emulator.Calibration;
using Flare.Emulator.Hosting;
using Flare.Emulator.Profiles;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace Flare.Emulator;

/// <summary>Standalone entry point of the Flare LLM emulator.</summary>
public static class EmulatorProgram
{
    private const string Usage = """
        Flare LLM emulator: an OpenAI-compatible server that behaves like vLLM serving a model on given GPUs.
        usage:
          Flare.Emulator [--urls http://127.0.0.1:5481] [--backend NAME=PROFILE[,time-scale=X]]... [--time-scale X] [--seed N] [--default-profile PROFILE]
          Flare.Emulator --list-profiles
          Flare.Emulator calibrate --data <shared/data> --code <CalibratedProfiles.cs> --doc <emulator-calibration.md>
        Without --backend, every profile is served under its own name. Base URL of a backend: <url>/<NAME>/v1
        """;

    public static async Task<int> Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "calibrate")
        {
            return Calibrator.Run(args[1..]);
        }

        var urls = "http://127.0.0.1:5481";
        var backends = new List<(string Name, string Profile, double? TimeScale)>();
        var timeScale = 1.0;
        var seed = 0;
        string? defaultProfile = null;
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            switch (args[i])
            {
                case "--list-profiles":
                    foreach (var p in EmulatorProfiles.All)
                    {
                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"{p.Name,-20} {p.ModelId,-28} {p.GpuCount}x{p.GpuType}  KV {p.KvCacheTokens} tokens  calibration MAPE {p.CalibrationMape:P1}"));
                    }

                    return 0;
                case "--urls":
                    urls = Next();
                    break;
                case "--backend":
                    // NAME=PROFILE[,time-scale=X]
                    var parts = Next().Split(',');
                    var spec = parts[0].Split('=', 2);
                    double? own = null;
                    if (spec.Length != 2 || parts.Skip(1).Any(p => !p.StartsWith("time-scale=", StringComparison.Ordinal)))
                    {
                        Console.Error.WriteLine("--backend expects NAME=PROFILE[,time-scale=X]");
                        return 2;
                    }

                    if (parts.Length > 1)
                    {
                        own = double.Parse(parts[1]["time-scale=".Length..], CultureInfo.InvariantCulture);
                    }

                    backends.Add((spec[0], spec[1], own));
                    break;
                case "--time-scale":
                    timeScale = double.Parse(Next(), CultureInfo.InvariantCulture);
                    break;
                case "--seed":
                    seed = int.Parse(Next(), CultureInfo.InvariantCulture);
                    break;
                case "--default-profile":
                    defaultProfile = Next();
                    break;
                case "-h" or "--help":
                    Console.WriteLine(Usage);
                    return 0;
                default:
                    Console.Error.WriteLine($"unknown argument {args[i]}\n{Usage}");
                    return 2;
            }
        }

        if (backends.Count == 0)
        {
            backends.AddRange(EmulatorProfiles.All.Select(p => (p.Name, p.Name, (double?)null)));
        }

        await using var fleet = new EmulatorFleet();
        try
        {
            foreach (var (name, profile, own) in backends)
            {
                fleet.AddOrUpdate(name, new EmulatorBackendOptions { Profile = profile, TimeScale = own ?? timeScale, Seed = seed });
            }

            if (defaultProfile is not null)
            {
                fleet.DefaultBackend = new EmulatorBackendOptions { Profile = defaultProfile, TimeScale = timeScale, Seed = seed };
            }
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }

        var app = EmulatorServer.Build(fleet, builder =>
        {
            builder.WebHost.UseUrls(urls.Split(';'));
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
        });
        await app.StartAsync();
        Console.WriteLine($"Flare LLM emulator (not a real model) listening on {string.Join(", ", app.Urls)}; backends:");
        foreach (var b in fleet.Backends.OrderBy(b => b.Name, StringComparer.Ordinal))
        {
            Console.WriteLine($"  {app.Urls.First().TrimEnd('/')}/{b.Name}/v1  ({b.Profile.Name}, time scale {b.Options.TimeScale.ToString(CultureInfo.InvariantCulture)})");
        }

        await app.WaitForShutdownAsync();
        return 0;
    }
}
