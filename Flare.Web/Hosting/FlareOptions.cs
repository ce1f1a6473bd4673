using System.ComponentModel.DataAnnotations;

namespace Flare.Web.Hosting;

/// <summary>Flare's top-level settings: section <c>Flare</c> of appsettings.json, or <c>Flare__*</c> environment variables.</summary>
public sealed class FlareOptions
{
    public const string Section = "Flare";

    /// <summary>Where Flare keeps its SQLite database and other files. Relative paths are taken from the
    /// content root (the folder Flare is started from). Default: <c>data</c>.</summary>
    [Required(AllowEmptyStrings = false)]
    public string DataDirectory { get; set; } = "data";

    /// <summary>Seed a small demo fleet (GPU types, models, emulated deployments) on the first start of an
    /// empty database. Never re-seeds over edits. Default: true.</summary>
    public bool Demo { get; set; } = true;

    /// <summary>Base URL the emulated demo deployments point at (Flare's in-process LLM emulator).
    /// Default: <c>http://127.0.0.1:5481</c>.</summary>
    [Required(AllowEmptyStrings = false), Url]
    public string EmulatorBaseUrl { get; set; } = "http://127.0.0.1:5481";

    /// <summary>Run Flare's LLM emulator inside this host, listening on <see cref="EmulatorBaseUrl"/>'s
    /// loopback port and serving every emulated deployment whose base URL starts with it. Default: true.</summary>
    public bool HostEmulator { get; set; } = true;

    /// <summary>Speed-up of the in-process emulator: 1 runs at the measured GPUs' speed, 10 ten times
    /// faster. Default: 1.</summary>
    [Range(0.001, 1_000_000)]
    public double EmulatorTimeScale { get; set; } = 1;

    /// <summary>With the demo on, Flare sends itself this many /v1 requests per second (Poisson arrivals)
    /// through the real data plane so that dashboards show traffic at once. 0 turns it off. Default: 1.</summary>
    [Range(0, 1000)]
    public double DemoTrafficPerSecond { get; set; } = 1;

    /// <summary>An API key for <c>/v1</c> to create at start if it does not exist (for automation).
    /// Default: none; with the demo on and no key at all, the first start creates one and prints it once.</summary>
    public string? BootstrapApiKey { get; set; }

    /// <summary>
    /// A token that authenticates automation against <c>/api</c> as the administrator
    /// (<c>Authorization: Bearer …</c>). Kept in memory only as its SHA-256 and compared in constant time.
    /// Default: none (only signed-in administrators).
    /// </summary>
    public string? AdminToken { get; set; }

    /// <summary>The database: <c>Sqlite</c> (default; one file in <see cref="DataDirectory"/>, one host) or <c>Postgres</c>
    /// (the server in <c>ConnectionStrings:Flare</c>, which several Flare hosts may share). Hangfire's job storage follows:
    /// in memory with SQLite, in the same PostgreSQL database with Postgres.</summary>
    public Flare.Data.DatabaseProvider Database { get; set; } = Flare.Data.DatabaseProvider.Sqlite;

    /// <summary>The SQLite database file inside <see cref="DataDirectory"/>.</summary>
    public string DatabasePath(string contentRoot) =>
        Path.Combine(Path.GetFullPath(DataDirectory, contentRoot), "flare.db");
}
