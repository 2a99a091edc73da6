import type { InstalledModelInfo } from '../../core/annotate-messages';
import type { AnnotatorPool } from '../annotation/annotator-pool';
import { monthStart, policyRefusal, studiesAllowed } from '../category-requests/category-request-policy';
import type { CategoryRequestStore, StoredCategoryRequest } from '../category-requests/category-request-store';
import type { CategoryRequestLimits } from '../config-loader';
import { GatewayError } from '../gateway-errors';
import type { CategoriesResponse, CategoryRequestsResponse, CategoryRequestView, ModelListResponse, ModelView } from '../../core/admin-api';

/**
 * The models, categories and central requests of the REST API. Everything
 * about models is asked of the annotator (it owns models/ in the
 * de-identified zone); an activation or rollback it makes is on disk, so
 * every annotator process serves the new version from its next instance on,
 * without a restart.
 */
export class SiteModelsApi {
  readonly #annotator: AnnotatorPool | undefined;
  readonly #requests: CategoryRequestStore | undefined;
  readonly #limits: CategoryRequestLimits | undefined;

  constructor(annotator: AnnotatorPool | undefined, requests: CategoryRequestStore | undefined, limits?: CategoryRequestLimits) {
    this.#annotator = annotator;
    this.#requests = requests;
    this.#limits = limits;
  }

  #ready(): AnnotatorPool {
    if (this.#annotator === undefined || this.#annotator.readyCount === 0)
      throw new GatewayError('AIB_API_UNAVAILABLE', this.#annotator === undefined ? 'annotation is off (AiBridge.Annotate is false): no models are loaded' : 'the annotator is not ready yet');
    return this.#annotator;
  }

  async list(): Promise<ModelListResponse> {
    const annotator = this.#ready();
    const [models, status] = await Promise.all([annotator.listModels(), annotator.centralStatus()]);
    const link = status.link;
    return {
      models: models.map(toModelView),
      central: link === null ? null : { url: link.url, lastPollAt: link.lastPollAt, catalogueSerial: link.catalogueSerial, lastError: link.lastError },
    };
  }

  async activate(id: string, version: string): Promise<ModelView> {
    return this.#change({ id, version });
  }

  async rollback(id: string): Promise<ModelView> {
    return this.#change({ id });
  }

  async #change(change: { id: string; version?: string }): Promise<ModelView> {
    const reply = await this.#ready().changeModel(change);
    if (reply.ok && reply.model !== undefined) return toModelView(reply.model);
    const code = reply.code ?? '';
    if (code === 'AIB_MODEL_NOT_INSTALLED') throw new GatewayError('AIB_API_NOT_FOUND', reply.message ?? 'not installed', { modelId: change.id, cause: code });
    if (code === 'AIB_MODEL_NO_PREVIOUS_VERSION') throw new GatewayError('AIB_API_CONFLICT', reply.message ?? 'no previous version', { modelId: change.id, cause: code });
    throw new GatewayError('AIB_ANNOTATE_FAILED', `${code}: ${reply.message ?? 'the annotator refused the change'}`, { modelId: change.id, cause: code });
  }

  async categories(): Promise<CategoriesResponse> {
    const models = await this.#ready().listModels();
    return {
      categories: models.flatMap((m) => (m.active === null ? [] : m.modalities.map((modality) => ({
        modality, bodyParts: m.bodyParts, model: { id: m.id, version: m.active ?? '' },
      })))),
    };
  }

  /**
   * An administrator approves (the request is searched on the next poll, for
   * the studies its ask and the site's limits allow) or declines a request
   * awaiting approval. 409 AIB_CATEGORY_REQUEST_REFUSED when it is not
   * awaiting, or the limits leave nothing to give.
   */
  async decide(id: string, approve: boolean, user: string | null, reason: string): Promise<StoredCategoryRequest> {
    const requests = this.#requests;
    const limits = this.#limits;
    if (requests === undefined || limits === undefined)
      throw new GatewayError('AIB_API_UNAVAILABLE', 'this site does not answer category requests (AiBridge.Central.AnswerCategoryRequests is false)');
    const request = await requests.get(id);
    if (request === undefined) throw new GatewayError('AIB_API_NOT_FOUND', `category request ${id} does not exist`, { requestId: id });
    if (request.state !== 'awaiting-approval')
      throw new GatewayError('AIB_CATEGORY_REQUEST_REFUSED', `category request ${id} is ${request.state}, not awaiting approval`, { requestId: id, state: request.state });
    let decided: boolean;
    if (approve) {
      const refusal = policyRefusal(request, limits);
      if (refusal !== null) throw new GatewayError('AIB_CATEGORY_REQUEST_REFUSED', `category request ${id} cannot be approved: ${refusal}`, { requestId: id });
      const granted = studiesAllowed(request.studiesWanted, limits, (await requests.studiesSearchedSince(monthStart(Date.now()))));
      if (granted === 0)
        throw new GatewayError('AIB_CATEGORY_REQUEST_REFUSED', `category request ${id} cannot be approved: AiBridge.Central.CategoryRequestLimits.StudiesPerMonth (${String(limits.StudiesPerMonth)}) is used up this month`, { requestId: id });
      decided = await requests.decide(id, { approve: true, studiesGranted: granted }, user);
    } else {
      decided = await requests.decide(id, { approve: false, reason }, user);
    }
    if (!decided) throw new GatewayError('AIB_CATEGORY_REQUEST_REFUSED', `category request ${id} was decided meanwhile`, { requestId: id });
    return await requests.get(id) ?? request;
  }

  async requests(): Promise<CategoryRequestsResponse> {
    if (this.#requests === undefined || this.#limits === undefined) return { requests: [], answering: false, limits: null };
    const limits = this.#limits;
    const status = this.#annotator !== undefined && this.#annotator.readyCount > 0 ? await this.#annotator.centralStatus() : undefined;
    const requests = this.#requests;
    const views = await Promise.all((await requests.list()).map(async (r): Promise<CategoryRequestView> => {
      const members = await requests.members(r.id);
      const uploaded = status?.requests.find((s) => s.id === r.id);
      return {
        id: r.id, category: { modality: r.modality, bodyPart: r.bodyPart }, studiesWanted: r.studiesWanted, reason: r.reason, open: r.open,
        decision: r.decision === null ? null : { ...r.decision, at: new Date(r.decision.at).toISOString() },
        search: {
          state: r.state, sources: r.sources, studiesFound: r.studiesFound, instances: members.length,
          instancesDeidentified: members.filter((m) => m.deidPath !== null).length,
          instancesFailed: members.filter((m) => m.jobState === 'quarantined').length, error: r.error,
        },
        uploads: {
          instancesUploaded: uploaded?.instancesUploaded ?? 0, studiesUploaded: uploaded?.studiesUploaded ?? 0, instancesRefused: uploaded?.instancesRefused ?? 0,
        },
        updatedAt: new Date(r.updatedAt).toISOString(),
      };
    }));
    return {
      requests: views, answering: true,
      limits: {
        categories: limits.Categories.map((c) => ({ modality: c.Modality, bodyPart: c.BodyPart })), studiesPerRequest: limits.StudiesPerRequest,
        studiesPerMonth: limits.StudiesPerMonth, studiesThisMonth: await requests.studiesSearchedSince(monthStart(Date.now())),
      },
    };
  }
}

function toModelView(m: InstalledModelInfo): ModelView {
  return {
    id: m.id, name: m.name, unit: m.unit, modalities: m.modalities, bodyParts: m.bodyParts, active: m.active, rollbackTo: m.rollbackTo,
    versions: m.versions.map((v) => ({ version: v.version, installedAt: v.installedAt, source: v.source, signature: v.signature, commissioning: v.commissioning })),
  };
}
