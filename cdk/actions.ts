/**
 * Actions each piece of code calls, and nothing else: adapters/dynamo-index/ (segmenter:
 * getVideo, beginRevision, markEnqueued, forgetDerived = Query + BatchWriteItem; worker: the same
 * plus recordClip, hasClip, markClipDone, clipsOf, writeTimeline, pruneTimeline; query: reads), sqs-consumer.
 * One definition, shared by the constructs that grant them and the tests that check the policies.
 */
export const ACTIONS = {
  readVideo: ['s3:GetObject'], // GetObject, HeadObject and the presigned GET ffprobe/ffmpeg read
  enqueueClips: ['sqs:SendMessage'], // SendMessageBatch is authorized as SendMessage
  // Batch variants (DeleteMessageBatch, ChangeMessageVisibilityBatch) are authorized as these.
  consumeClips: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility'],
  segmenterTable: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:Query', 'dynamodb:BatchWriteItem'],
  workerTable: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query', 'dynamodb:BatchWriteItem'],
  queryTable: ['dynamodb:GetItem', 'dynamodb:Query'],
  queryIndex: ['dynamodb:Query'],
  uploadVideo: ['s3:PutObject', 's3:AbortMultipartUpload'], // the query API signs upload PUTs (single and multipart) under the video prefix
  writeThumbnails: ['s3:PutObject', 's3:DeleteObject'], // one JPEG per segment under the thumbnail prefix; an older revision's are deleted
  listThumbnails: ['s3:ListBucket'], // on the bucket, limited to the thumbnail prefix by condition
  clipPayloads: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject'], // the worker: large clip results under the payload prefix
  readClipPayloads: ['s3:GetObject'], // the query API: re-segmentation reads window scores kept there
  removeClipPayloads: ['s3:DeleteObject'], // the segmenter and the sweeper: a failed or replaced video's payloads
} as const;
