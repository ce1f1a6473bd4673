using Flare.Data.Gateway;
using Flare.Data.History;
using Flare.Data.Plans;
using Flare.Data.Security;
using Flare.Data.Profiling;
using Flare.Data.Registry;
using Microsoft.EntityFrameworkCore;

namespace Flare.Data;

/// <summary>
/// Flare's database. The model is provider-neutral (no SQLite-only types: times are UTC
/// <see cref="DateTime"/>, money is <see cref="double"/>), so another provider can get its own migrations.
/// </summary>
public sealed class FlareDbContext(DbContextOptions<FlareDbContext> options) : DbContext(options)
{
    public DbSet<GpuTypeEntity> GpuTypes => Set<GpuTypeEntity>();
    public DbSet<ModelEntity> Models => Set<ModelEntity>();
    public DbSet<DeploymentEntity> Deployments => Set<DeploymentEntity>();
    public DbSet<InstallationFact> InstallationFacts => Set<InstallationFact>();
    public DbSet<ApiKeyEntity> ApiKeys => Set<ApiKeyEntity>();
    public DbSet<RequestLogEntity> RequestLog => Set<RequestLogEntity>();
    public DbSet<ProfileRunEntity> ProfileRuns => Set<ProfileRunEntity>();
    public DbSet<ProfileSampleEntity> ProfileSamples => Set<ProfileSampleEntity>();
    public DbSet<ProfileCellEntity> ProfileCells => Set<ProfileCellEntity>();
    public DbSet<ProfileFitEntity> ProfileFits => Set<ProfileFitEntity>();
    public DbSet<ProfileScheduleEntity> ProfileSchedules => Set<ProfileScheduleEntity>();
    public DbSet<HistoryDatasetEntity> HistoryDatasets => Set<HistoryDatasetEntity>();
    public DbSet<HistoryModelMapEntity> HistoryModelMap => Set<HistoryModelMapEntity>();
    public DbSet<HistoryPromptEntity> HistoryPrompts => Set<HistoryPromptEntity>();
    public DbSet<HistoryOutcomeEntity> HistoryOutcomes => Set<HistoryOutcomeEntity>();
    public DbSet<RoutingPlanEntity> RoutingPlans => Set<RoutingPlanEntity>();
    public DbSet<RoutingPlanActivationEntity> RoutingPlanActivations => Set<RoutingPlanActivationEntity>();
    public DbSet<AdminUserEntity> AdminUsers => Set<AdminUserEntity>();
    public DbSet<DataProtectionKeyEntity> DataProtectionKeys => Set<DataProtectionKeyEntity>();
    public DbSet<SharedCounterEntity> SharedCounters => Set<SharedCounterEntity>();

    protected override void OnModelCreating(ModelBuilder modelBuilder) =>
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(FlareDbContext).Assembly);
}
