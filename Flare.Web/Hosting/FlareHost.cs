using Flare.Data;
using Flare.Data.Demo;
using Flare.Web.Api;
using Flare.Web.Components;
using Flare.Web.Explorer;
using Flare.Web.Gateway;
using Flare.Web.History;
using Flare.Web.Plans;
using Flare.Web.Profiling;
using Flare.Web.Security;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;
using MudBlazor.Services;

namespace Flare.Web.Hosting;

/// <summary>Builds Flare's web host: each step is an extension named after what it adds.</summary>
public static class FlareHost
{
    /// <summary>Where Flare listens unless <c>--urls</c> or <c>ASPNETCORE_URLS</c> says otherwise.</summary>
    public const string DefaultUrl = "http://127.0.0.1:5480";

    /// <param name="args">The command line.</param>
    /// <param name="services">Registrations applied after Flare's own, which they replace (tests swap in, say, a history
    /// estimator of their own); none in production.</param>
    public static WebApplication Build(string[] args, Action<IServiceCollection>? services = null)
    {
        // The application name is Flare.Web's even when a test process hosts it, so the static web assets
        // manifest (MudBlazor's CSS and JS) is found.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            ApplicationName = typeof(FlareHost).Assembly.GetName().Name,
        });
        builder.AddFlareConfiguration();
        builder.AddFlareData();
        builder.AddFlareSecurity();
        builder.AddFlareJobs();
        builder.AddFlareApi();
        builder.AddFlareGateway();
        builder.AddFlareEmulator();
        builder.AddFlareProfiling();
        builder.AddFlarePlans();
        builder.AddFlareHistory();
        builder.AddFlareDemoTraffic();
        builder.AddFlareUi();
        builder.AddFlareExplorer();
        services?.Invoke(builder.Services);

        var app = builder.Build();
        app.MapFlare();
        return app;
    }

    /// <summary>
    /// Reads the repository-root appsettings.json (copied beside the binaries) in place of the
    /// content-root one, keeping the standard precedence: environment variables (<c>Flare__...</c>) and
    /// the command line still override it. Listens on <see cref="DefaultUrl"/> unless told otherwise.
    /// </summary>
    public static void AddFlareConfiguration(this WebApplicationBuilder builder)
    {
        var sources = builder.Configuration.Sources;
        var index = sources.ToList().FindIndex(s => s is JsonConfigurationSource { Path: "appsettings.json" });
        var rootSettings = new JsonConfigurationSource
        {
            Path = "appsettings.json",
            FileProvider = new PhysicalFileProvider(AppContext.BaseDirectory),
            Optional = true,
            ReloadOnChange = false,
        };
        if (index >= 0)
        {
            sources[index] = rootSettings;
        }
        else
        {
            sources.Insert(0, rootSettings);
        }

        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["http_ports"]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        // Package assets (MudBlazor's CSS and JS) are served from the build output in every environment,
        // so `dotnet run` works without publishing and without the Development environment.
        builder.WebHost.UseStaticWebAssets();

        builder.Services.AddOptions<FlareOptions>()
            .BindConfiguration(FlareOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
    }

    public static void AddFlareData(this WebApplicationBuilder builder)
    {
        builder.Services.AddFlareDatabase(sp => Database(sp.GetRequiredService<IOptions<FlareOptions>>().Value,
            sp.GetRequiredService<IConfiguration>(), sp.GetRequiredService<IHostEnvironment>().ContentRootPath));

        // Migrate and seed before the server accepts requests: hosted services added here start before Kestrel.
        builder.Services.AddHostedService<DatabaseInitializer>();
        if (UsesPostgres(builder.Configuration))
        {
            // Hosts sharing the database hear each other's changes.
            builder.Services.AddSingleton<PostgresChangeRelay>();
            builder.Services.AddHostedService(sp => sp.GetRequiredService<PostgresChangeRelay>());

            // ... pool PORT's budgets and the API keys' rate limits ...
            builder.Services.AddSingleton<PostgresLedger>();
            builder.Services.AddSingleton<Flare.Routing.Routing.ISharedLedger>(sp => sp.GetRequiredService<PostgresLedger>());
            builder.Services.AddHostedService(sp => sp.GetRequiredService<PostgresLedger>());

            // ... and probe deployments from one host at a time.
            builder.Services.AddSingleton<PostgresProbeLeadership>();
            builder.Services.AddSingleton<IProbeLeadership>(sp => sp.GetRequiredService<PostgresProbeLeadership>());
            builder.Services.AddHostedService(sp => sp.GetRequiredService<PostgresProbeLeadership>());
        }
    }

    /// <summary>True when configuration says <c>Flare:Database=Postgres</c> (read while the host is built).</summary>
    public static bool UsesPostgres(IConfiguration configuration) =>
        configuration.GetSection(FlareOptions.Section).GetValue<DatabaseProvider>(nameof(FlareOptions.Database)) == DatabaseProvider.Postgres;

    /// <summary>The database a host's options name; a PostgreSQL host without a connection string fails at start, saying so.</summary>
    public static DatabaseSettings Database(FlareOptions options, IConfiguration configuration, string contentRoot) =>
        options.Database switch
        {
            DatabaseProvider.Postgres => DatabaseSettings.Postgres(PostgresConnectionString(configuration)),
            _ => DatabaseSettings.Sqlite(options.DatabasePath(contentRoot)),
        };

    /// <summary><c>ConnectionStrings:Flare</c> (environment: <c>ConnectionStrings__Flare</c>), required with <c>Flare:Database=Postgres</c>.</summary>
    public static string PostgresConnectionString(IConfiguration configuration) =>
        configuration.GetConnectionString("Flare") is { Length: > 0 } connectionString
            ? connectionString
            : throw new InvalidOperationException(
                "Flare:Database is Postgres but ConnectionStrings:Flare is not set. Give it, for example " +
                "ConnectionStrings__Flare=\"Host=db;Database=flare;Username=flare;Password=…\", or leave Flare:Database at Sqlite.");

    public static void AddFlareUi(this WebApplicationBuilder builder)
    {
        builder.Services.AddRazorComponents().AddInteractiveServerComponents();
        builder.Services.AddMudServices();
        builder.Services.AddSingleton<Traffic.TrafficMonitor>();
        builder.Services.AddSingleton<Traffic.RequestInsights>();
    }

    public static void MapFlare(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseFlareSecurity();
        app.UseAntiforgery();
        app.MapStaticAssets().AllowAnonymous();
        app.MapFlareAccount();
        app.MapFlareApi();
        app.MapFlareGateway();
        app.MapFlareHistory();
        app.MapFlareJobsDashboard();
        // frame-ancestors comes with the rest of the content security policy (SecurityHeaders), not as a second header.
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode(o => o.ContentSecurityFrameAncestorsPolicy = null);

        // Start listening to the meter now, so the live page has the minute before it was opened.
        app.Services.GetRequiredService<Traffic.TrafficMonitor>();
    }

}

/// <summary>
/// Applies migrations and seeds the demo fleet once, before the host accepts requests. On PostgreSQL, hosts starting at once
/// take turns: each holds the advisory lock <see cref="PostgresLocks.StartUp"/> from before it migrates until every start-up
/// step has run (this service's <see cref="StartedAsync"/>) — the demo seed, the bootstrap and demo API keys, the first
/// administrator — so the second host finds the first one's work done instead of doing it again.
/// </summary>
internal sealed partial class DatabaseInitializer(
    IDbContextFactory<FlareDbContext> dbFactory,
    IOptions<FlareOptions> options,
    IConfiguration configuration,
    TimeProvider time,
    ILogger<DatabaseInitializer> log) : IHostedLifecycleService, IAsyncDisposable
{
    private Npgsql.NpgsqlConnection? _startUpLock;

    /// <summary>Runs before any hosted service's <c>StartAsync</c>, i.e. before the other start-up steps.</summary>
    public async Task StartingAsync(CancellationToken ct)
    {
        if (FlareHost.UsesPostgres(configuration))
        {
            _startUpLock = await TakeStartUpLockAsync(ct);
        }

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await db.MigrateAsync(ct);
        LogReady(db.Database.GetDbConnection().DataSource);
        if (options.Value.Demo && await DemoFleet.SeedOnceAsync(db, options.Value.EmulatorBaseUrl, time, ct))
        {
            LogSeeded(options.Value.EmulatorBaseUrl);
        }
    }

    public Task StartAsync(CancellationToken ct) => Task.CompletedTask;

    /// <summary>Runs after every hosted service's <c>StartAsync</c>: this host's start-up is done, the next may go.</summary>
    public Task StartedAsync(CancellationToken ct) => ReleaseAsync().AsTask();

    public Task StoppingAsync(CancellationToken ct) => Task.CompletedTask;

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken ct) => Task.CompletedTask;

    public ValueTask DisposeAsync() => ReleaseAsync();

    private async Task<Npgsql.NpgsqlConnection> TakeStartUpLockAsync(CancellationToken ct)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        var held = await PostgresLocks.HoldAsync(FlareHost.PostgresConnectionString(configuration), PostgresLocks.StartUp, ct);
        if (waited.Elapsed > TimeSpan.FromMilliseconds(100))
        {
            LogWaited(waited.Elapsed.TotalSeconds);
        }

        return held;
    }

    private async ValueTask ReleaseAsync()
    {
        if (Interlocked.Exchange(ref _startUpLock, null) is { } connection)
        {
            await connection.DisposeAsync();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Database ready at {Path}")]
    private partial void LogReady(string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "Seeded the demo fleet (emulated deployments at {EmulatorBaseUrl})")]
    private partial void LogSeeded(string emulatorBaseUrl);

    [LoggerMessage(Level = LogLevel.Information, Message = "Waited {Seconds:0.0} s for another host sharing the database to finish starting")]
    private partial void LogWaited(double seconds);
}
