import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ClusterOverviewService, ClusterResponse } from '@app/cluster';

@ApiTags('cluster')
@ApiBearerAuth()
@Controller('v1/cluster')
export class ClusterController {
  constructor(private readonly cluster: ClusterOverviewService) {}

  @Get()
  @ApiOkResponse({
    type: ClusterResponse,
    description: 'The live listener replicas (dead ones, silent past CLUSTER_LEASE_TTL_MS, are not listed), how many enabled mailboxes each holds, and how many no live replica holds',
  })
  get(): Promise<ClusterResponse> {
    return this.cluster.overview();
  }
}
