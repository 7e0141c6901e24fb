// Why a request found no offer, in words, from the market's runtime API: the offers that
// would serve it (`rankOffers`), and for the cheapest open pool orders of its category, every
// check that fails (`explainMatch`), clause by clause for the ads.
import { formatRlc } from './chain.mjs';

const kinds = { App: 'the app order', Dataset: 'the data set order', Pool: 'the pool order', Request: 'the request' };

// One mismatch (pallet-market's `Mismatch`) as a sentence.
export function describeMismatch (m) {
  const v = m.value;
  switch (m.type) {
    case 'UsedUp': return `${kinds[v.type]} has no task left`;
    case 'WrongKind': return `${kinds[v.type]} is not of the kind its place asks for`;
    case 'OtherApp': return 'the app order offers another app';
    case 'OtherDataset': return 'the data set order offers another data set';
    case 'DatasetOrderMissing': return 'the request names a data set and no data set order offers it';
    case 'DatasetNotRequested': return 'a data set order was given for a request without a data set';
    case 'OtherPool': return 'the request accepts only another pool';
    case 'NotApproved': return `the contract behind ${kinds[v.type]} is not approved by governance`;
    case 'OwnerChanged': return `${kinds[v.type]} was published by an earlier owner of its contract`;
    case 'CategoryDiffers': return `the pool serves category ${v.offered}, the request wants ${v.requested}`;
    case 'TrustTooLow': return `the pool offers trust ${v.offered}, the request wants ${v.requested}`;
    case 'PriceAboveMaximum': return `${kinds[v.type]}'s price is above the request's maximum for it`;
    case 'TagsNotOffered': return `the pool does not offer tag bits ${v.missing.toHex()}`;
    case 'Restricted': return `${kinds[v.by.type]}'s restrictions exclude ${kinds[v.excluded.type]}'s party`;
    case 'JobRequirementsNotMet': return "the job's Requirements is not true against the pool's ad";
    case 'PoolRequirementsNotMet': return "the pool's Requirements is not true against the job ad";
    default: return m.toString();
  }
}

// Lines that say why request `request` (its on-chain terms `terms`) has no deal.
export async function explainNoMatch (api, request, terms) {
  const lines = [];
  const ranked = await api.call.marketApi.rankOffers(request);
  if (ranked.isErr) return [`the market cannot rank offers for request ${request}: ${ranked.asErr.type}`];
  const offers = ranked.asOk;
  if (offers.length > 0) {
    const best = offers[0];
    lines.push(`${offers.length} offer(s) would serve it now (best: pool order ${best.poolOrder} at ${formatRlc(best.pricePerTask)} per task); they arrived after the request was checked — \`market.matchOrders\` makes the deal`);
    return lines;
  }
  const category = terms.category.toString();
  const appOrders = await api.query.market.resourceBook(terms.app);
  if (appOrders.length === 0) lines.push(`app ${terms.app} has no open order: its owner has not published one (or it is used up)`);
  let datasetOrder = null;
  if (terms.dataset.isSome) {
    const datasetOrders = await api.query.market.resourceBook(terms.dataset.unwrap());
    if (datasetOrders.length === 0) lines.push(`data set ${terms.dataset.unwrap()} has no open order`);
    else datasetOrder = datasetOrders[0][1];
  }
  const pools = await api.query.market.poolBook(category);
  if (pools.length === 0) lines.push(`no worker pool has an open order in category ${category}`);
  if (appOrders.length === 0 || pools.length === 0 || (terms.dataset.isSome && datasetOrder === null)) return lines;
  // The cheapest few pool orders, each against the cheapest app (and data set) order.
  for (const [price, poolOrder] of [...pools].slice(0, 3)) {
    const answer = await api.call.marketApi.explainMatch(request, poolOrder, appOrders[0][1], datasetOrder);
    if (answer.isErr) continue;
    const why = answer.asOk;
    const reasons = why.mismatches.map(describeMismatch);
    for (const c of why.jobClauses) reasons.push(`job clause \`${c.clause}\` is ${c.value}`);
    for (const c of why.poolClauses) reasons.push(`pool clause \`${c.clause}\` is ${c.value}`);
    lines.push(`pool order ${poolOrder} (${formatRlc(price)}): ${reasons.join('; ') || 'matches now'}`);
  }
  return lines;
}
