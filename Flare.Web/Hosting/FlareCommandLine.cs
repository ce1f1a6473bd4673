using Flare.Data;
using Microsoft.EntityFrameworkCore;

namespace Flare.Web.Hosting;

/// <summary>
/// Flare's command line: with no verb it serves; a verb runs one task and exits. Options for the host
/// (<c>--urls</c>, <c>--Flare:DataDirectory=...</c>) work with and without a verb.
/// </summary>
public static class FlareCommandLine
{
    private sealed record Verb(string Name, string Usage, string Summary, Func<string[], Task<int>> Run);

    private static readonly Verb[] Verbs =
    [
        new("migrate", "migrate", "Apply pending database migrations (and seed the demo fleet when it is on), then exit.", MigrateAsync),
        new(FitProfileVerb.Name, FitProfileVerb.Usage, FitProfileVerb.Summary, FitProfileVerb.RunAsync),
        new(EvalEstimatorVerb.Name, EvalEstimatorVerb.Usage, EvalEstimatorVerb.Summary, EvalEstimatorVerb.RunAsync),
        new(EvalVerb.Name, EvalVerb.Usage, EvalVerb.Summary, EvalVerb.RunAsync),
    ];

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length > 0 && args[0] is "--help" or "-h" or "help" or "-?")
        {
            PrintHelp(Console.Out);
            return 0;
        }

        if (args.Length > 0 && !args[0].StartsWith('-'))
        {
            var verb = Verbs.FirstOrDefault(v => v.Name == args[0]);
            if (verb is null)
            {
                await Console.Error.WriteLineAsync($"flare: unknown verb '{args[0]}'.");
                PrintHelp(Console.Error);
                return 2;
            }

            return await verb.Run(args[1..]);
        }

        var app = FlareHost.Build(args);
        await app.RunAsync();
        return 0;
    }

    private static void PrintHelp(TextWriter w)
    {
        w.WriteLine("Flare: a control plane and router for fleets of LLMs.");
        w.WriteLine();
        w.WriteLine("Usage: dotnet run --project Flare.Web -- [verb] [options]");
        w.WriteLine();
        w.WriteLine("With no verb, Flare serves the control plane and the /v1 endpoint");
        w.WriteLine($"(default http://{FlareHost.DefaultUrl.Replace("http://", "")}; change with --urls or ASPNETCORE_URLS).");
        w.WriteLine();
        w.WriteLine("Verbs:");
        foreach (var v in Verbs)
        {
            // Long usages get a line of their own so the summaries stay in one column.
            if (v.Usage.Length > 28)
            {
                w.WriteLine($"  {v.Usage}");
                w.WriteLine($"  {"",-28} {v.Summary}");
            }
            else
            {
                w.WriteLine($"  {v.Usage,-28} {v.Summary}");
            }
        }

        w.WriteLine();
        w.WriteLine("Options (any verb):");
        w.WriteLine("  --urls URL                   Where to listen (default " + FlareHost.DefaultUrl + ").");
        w.WriteLine("  --Flare:DataDirectory=DIR    Folder for the SQLite database (default ./data).");
        w.WriteLine("  --Flare:Demo=false           Do not seed the demo fleet on first start.");
        w.WriteLine("  -h, --help                   Show this help.");
    }

    private static async Task<int> MigrateAsync(string[] args)
    {
        await using var app = FlareHost.Build(args);
        await ActivatorUtilities.CreateInstance<DatabaseInitializer>(app.Services).StartAsync(CancellationToken.None);
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<FlareDbContext>>().CreateDbContextAsync();
        Console.WriteLine($"Database at {db.Database.GetDbConnection().DataSource} is up to date.");
        return 0;
    }
}
