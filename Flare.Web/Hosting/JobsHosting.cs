using Hangfire;
using Hangfire.InMemory;
using Hangfire.PostgreSql;

namespace Flare.Web.Hosting;

/// <summary>Background jobs: Hangfire with in-memory storage (SQLite) or in PostgreSQL, its dashboard at <c>/jobs</c>.</summary>
public static class JobsHosting
{
    public const string DashboardPath = "/jobs";

    public static void AddFlareJobs(this WebApplicationBuilder builder)
    {
        // With PostgreSQL the jobs live in the shared database (schema "hangfire", created on first start), so every host's
        // workers take from one queue and a job runs once across the hosts; with SQLite, one host, in memory.
        var postgres = FlareHost.UsesPostgres(builder.Configuration);
        builder.Services.AddHangfire(c =>
        {
            c.SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
                .UseSimpleAssemblyNameTypeSerializer()
                .UseRecommendedSerializerSettings();
            if (postgres)
            {
                // Hangfire opens its storage (creating its schema the first time) when the host's services are built, before
                // the database initializer runs; hosts starting at once take turns at it, as they do at migrating.
                var connectionString = FlareHost.PostgresConnectionString(builder.Configuration);
                Flare.Data.PostgresDatabase.EnsureExists(connectionString);
                using var startUp = PostgresLocks.Hold(connectionString, PostgresLocks.StartUp);
                c.UsePostgreSqlStorage(o => o.UseNpgsqlConnection(connectionString),
                    new PostgreSqlStorageOptions { QueuePollInterval = TimeSpan.FromSeconds(1), PrepareSchemaIfNecessary = true });
            }
            else
            {
                c.UseInMemoryStorage(new InMemoryStorageOptions { MaxExpirationTime = TimeSpan.FromDays(1) });
            }
        });
        builder.Services.AddHangfireServer(o =>
        {
            o.WorkerCount = Math.Max(2, Environment.ProcessorCount);
            o.ServerName = $"flare-{Environment.MachineName}-{Environment.ProcessId}";
        });
    }

    /// <summary>
    /// The dashboard needs a signed-in administrator like every page (the endpoint falls under the
    /// fallback policy), and its own filter says the same, replacing Hangfire's default, which lets any
    /// loopback request in.
    /// </summary>
    public static void MapFlareJobsDashboard(this WebApplication app) =>
        app.MapHangfireDashboard(DashboardPath, new DashboardOptions
        {
            DashboardTitle = "Flare jobs",
            AppPath = "/",
            Authorization = [new AdminDashboardAuthorization()],
        });

    private sealed class AdminDashboardAuthorization : Hangfire.Dashboard.IDashboardAuthorizationFilter
    {
        public bool Authorize(Hangfire.Dashboard.DashboardContext context) =>
            Hangfire.Dashboard.AspNetCoreDashboardContextExtensions.GetHttpContext(context).User.IsInRole(Security.FlareAuth.AdminRole);
    }
}
